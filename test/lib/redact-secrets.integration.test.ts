import { describe, expect, it } from "vitest";
import { redactSecrets } from "../../src/lib/security/redact-secrets";
import { findSecrets, maskSecrets } from "../../src/lib/security/secret-scanner";

// Credential-shaped fixtures, assembled at run time so no scanner mistakes this file for a leak.
const aws = `AKIA${"IOSFODNN7EXAMPLE"}`;
const gh = `ghp_${"a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"}`;
const ant = `sk-ant-${"api03-abcdefghijklmnopqrstuvwxyz012345"}`;
const pem = `-----BEGIN RSA ${"PRIVATE KEY"}-----\nMIIEowIBAAKCAQEA\n-----END RSA ${"PRIVATE KEY"}-----`;

describe("redactSecrets", () => {
  it("masks credential formats and secret assignments, keeping what names them", () => {
    const text = [
      `const key = "${aws}";`,
      `token: ${gh}`,
      `ANTHROPIC_API_KEY=${ant}`,
      pem,
      "DB_PASSWORD = 'hunter2hunter2'",
      "Authorization: Bearer abcdefghijklmnopqrstuvwxyz123456",
      "postgres://admin:s3cretpass@db.internal:5432/app",
    ].join("\n");
    const { text: out, found } = redactSecrets(text);
    for (const secret of [aws, gh, ant, "MIIEowIBAAKCAQEA", "hunter2hunter2", "abcdefghijklmnopqrstuvwxyz123456", "s3cretpass"])
      expect(out).not.toContain(secret);
    expect(out).toContain("Authorization: Bearer [secret:");
    expect(out).toContain("postgres://admin:[secret:url-credentials]@db.internal");
    expect(out).toContain("DB_PASSWORD = '[secret:");
    // gitleaks' rules name what they find; the extra patterns catch what its allowlists let through.
    expect(Object.values(found).reduce((n, c) => n + c, 0)).toBeGreaterThanOrEqual(7);
  });

  it("leaves ordinary code alone", () => {
    const code = "export function tokenize(text: string) {\n  const passwordField = form.password;\n  return text.split(' ');\n}\n";
    expect(redactSecrets(code)).toEqual({ text: code, found: {} });
  });
});

describe("secret scanner (gitleaks' rules, RE2)", () => {
  // Realistic fakes, assembled at run time; each is a format gitleaks has a rule for.
  const r = (n: number, alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") => {
    let s = "";
    let x = 2166136261 ^ n;
    for (let i = 0; i < 64; i++) {
      x = Math.imul(x ^ (x >>> 13), 16777619) >>> 0;
      s += alphabet[x % alphabet.length];
    }
    return s;
  };
  const samples: [string, string][] = [
    ["gitlab", `glpat-${r(1).slice(0, 20)}`],
    [
      "slack webhook",
      `https://hooks.slack.com/services/T${r(2, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789").slice(0, 8)}/B${r(3, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789").slice(0, 10)}/${r(4).slice(0, 24)}`,
    ],
    ["digitalocean", `dop_v1_${r(5, "0123456789abcdef")}`],
    ["age", `AGE-SECRET-KEY-1${r(6, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L").slice(0, 58)}`],
    ["npm", `npm_${r(7, "abcdefghijklmnopqrstuvwxyz0123456789").slice(0, 36)}`],
    ["aws", `AKIA${r(8, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567").slice(0, 16)}`],
    ["github", `ghp_${r(9).slice(0, 36)}`],
    ["stripe", `sk_live_${r(10).slice(0, 24)}`],
  ];

  it("masks each format as [secret:<rule-id>] and lists it by rule and line, never by value", () => {
    const text = samples.map(([name, s], i) => `// ${name} ${i}\nconst credential${i} = "${s}";`).join("\n");
    const masked = maskSecrets(text);
    for (const [name, s] of samples) expect(masked.text, name).not.toContain(s);
    expect(masked.findings).toHaveLength(samples.length);
    expect(masked.findings.map((f) => f.startLine)).toEqual(samples.map((_, i) => 2 * i + 2));
    expect(JSON.stringify(masked.findings)).not.toContain(samples[0]?.[1] ?? "?");
  });

  it("keeps line numbers when a key block spanning lines is masked", () => {
    const body = Array.from({ length: 6 }, (_, i) => r(20 + i)).join("\n");
    const text = `line 1\n-----BEGIN OPENSSH ${"PRIVATE KEY"}-----\n${body}\n-----END OPENSSH ${"PRIVATE KEY"}-----\nline 10\n`;
    const masked = maskSecrets(text);
    expect(masked.findings).toEqual([{ ruleId: "private-key", startLine: 2, endLine: 9 }]);
    expect(masked.text.split("\n")[9]).toBe("line 10");
  });

  it("finishes in linear time on 1 MB adversarial inputs, masking rather than leaving unscanned text", () => {
    const inputs = [
      "a".repeat(1 << 20),
      "\n".repeat(1 << 20),
      "key=".repeat(1 << 18),
      `${"password = ".repeat(1 << 16)}${"x".repeat(1 << 19)}`,
      "-----BEGIN PRIVATE KEY-----".repeat(1 << 15),
      `api_key = "${"A1b2".repeat(1 << 18)}"`,
    ];
    for (const input of inputs) {
      const found = findSecrets(input);
      for (const f of found) expect(f.end).toBeGreaterThan(f.start);
    }
  });

  it("leaves ordinary code and placeholders alone", () => {
    const code = 'const apiKey = process.env.API_KEY;\nconst token = "$' + '{TOKEN}";\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n';
    expect(findSecrets(code)).toEqual([]);
  });
});
