import { describe, expect, it } from "vitest";
import { redactSecrets } from "../../src/lib/security/redact-secrets";

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
    expect(out).toContain("Authorization: Bearer [REDACTED:bearer-token]");
    expect(out).toContain("postgres://admin:[REDACTED:url-credentials]@db.internal");
    expect(out).toContain("DB_PASSWORD = '[REDACTED:assigned-secret]");
    expect(found).toMatchObject({ "aws-access-key": 1, "github-token": 1, "anthropic-key": 1, "private-key": 1 });
  });

  it("leaves ordinary code alone", () => {
    const code = "export function tokenize(text: string) {\n  const passwordField = form.password;\n  return text.split(' ');\n}\n";
    expect(redactSecrets(code)).toEqual({ text: code, found: {} });
  });
});
