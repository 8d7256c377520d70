import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildIgnoreRules, chunkRecords, chunkText, decodeFile, fileType, normalizeText, type TextChunk } from "../../src/lib/chunker";
import { sha256Hex } from "../../src/lib/crypto/hash";
import { fingerprint } from "../../src/lib/ingest";
import { countWith, type Tokenizer } from "../../src/lib/tokenizer";

const line = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.constantFrom("", "  return x;", "}", "export function f(a, b) {", "  // comment with words", "\tif (a) { b(); }", "class A {", ""),
  },
  { weight: 3, arbitrary: fc.string({ unit: "grapheme", maxLength: 120 }).map((s) => s.replace(/\n/g, " ")) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom("a", "b", " ", "=", "é", "🎉"), minLength: 200, maxLength: 3000 }) },
);
const document = fc.array(line, { maxLength: 400 }).chain((lines) => fc.constantFrom(lines.join("\n"), `${lines.join("\n")}\n`));
const options = fc.record({
  tokenizer: fc.constantFrom<Tokenizer>("claude", "o200k_base", "cl100k_base"),
  maxTokens: fc.integer({ min: 40, max: 1200 }),
  overlapFraction: fc.double({ min: 0, max: 0.45, noNaN: true }),
});

/** Rebuilds the text from chunks by dropping each chunk's overlap with the one before. */
function rebuild(chunks: TextChunk[]): string {
  let out = "";
  let end = 0;
  for (const c of chunks) {
    expect(c.charStart).toBeLessThanOrEqual(end);
    out += c.text.slice(end - c.charStart);
    end = Math.max(end, c.charEnd);
  }
  return out;
}

describe("chunkText properties", () => {
  it("keeps every chunk within the limit, counts it exactly, and rebuilds the text", () => {
    fc.assert(
      fc.property(document, options, (text, o) => {
        const opts = { tokenizer: o.tokenizer, maxTokens: o.maxTokens, overlapTokens: Math.floor(o.maxTokens * o.overlapFraction) };
        const chunks = chunkText(text, opts);
        const bytes = new TextEncoder().encode(text);
        for (const c of chunks) {
          expect(c.tokenCount).toBeLessThanOrEqual(opts.maxTokens);
          expect(c.tokenCount).toBe(countWith(opts.tokenizer, c.text));
          expect(c.text).toBe(text.slice(c.charStart, c.charEnd));
          expect(new TextDecoder().decode(bytes.subarray(c.byteOffset, c.byteOffset + c.byteLength))).toBe(c.text);
          const lines = text
            .split("\n")
            .slice(c.startLine - 1, c.endLine)
            .join("\n");
          expect(lines.includes(c.text.replace(/\n$/, ""))).toBe(true);
        }
        expect(rebuild(chunks)).toBe(text);
      }),
      { numRuns: 120 },
    );
  });

  it("fingerprints every chunk with the sha256 of its text", async () => {
    await fc.assert(
      fc.asyncProperty(document, async (text) => {
        const prepared = await fingerprint(chunkText(text, { tokenizer: "o200k_base", maxTokens: 200, overlapTokens: 40 }));
        for (const c of prepared) expect(c.sha256).toBe(await sha256Hex(c.text));
      }),
      { numRuns: 30 },
    );
  });
});

describe("chunkText cuts", () => {
  const fn = (i: number): string => `export function handler${i}(input: string): string {\n${"  const value = input.trim();\n".repeat(12)}  return value;\n}\n`;
  const source = Array.from({ length: 60 }, (_, i) => fn(i)).join("\n");

  it("prefers the blank line before a top-level declaration", () => {
    const chunks = chunkText(source, { tokenizer: "cl100k_base", maxTokens: 800, overlapTokens: 128 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks.slice(0, -1)) expect(c.text.endsWith("}\n\n")).toBe(true);
    for (const c of chunks.slice(1)) expect(c.text.split("\n")[0]).toMatch(/^(export function| {2}|}|$)/);
  });

  it("overlaps consecutive chunks by whole lines within the overlap budget", () => {
    const chunks = chunkText(source, { tokenizer: "cl100k_base", maxTokens: 800, overlapTokens: 256 });
    for (let i = 1; i < chunks.length; i++) {
      const prev = chunks[i - 1] as TextChunk;
      const cur = chunks[i] as TextChunk;
      const overlap = source.slice(cur.charStart, prev.charEnd);
      expect(overlap.length).toBeGreaterThan(0);
      expect(overlap.endsWith("\n")).toBe(true);
      expect(countWith("cl100k_base", overlap)).toBeLessThanOrEqual(256 + 2);
    }
  });

  it("splits a line longer than a chunk by tokens", () => {
    const minified = `${"var a=function(b){return b*2};".repeat(3000)}\nshort line\n`;
    const chunks = chunkText(minified, { tokenizer: "o200k_base", maxTokens: 1000, overlapTokens: 128 });
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks) expect(c.tokenCount).toBeLessThanOrEqual(1000);
    expect(chunks[0]?.startLine).toBe(1);
    expect(chunks.at(-1)?.text).toContain("short line");
    expect(rebuild(chunks)).toBe(minified);
  });

  it("cuts one enormous pre-token at its own token seams", () => {
    const text = "z".repeat(100_000);
    const chunks = chunkText(text, { tokenizer: "cl100k_base", maxTokens: 500, overlapTokens: 128 });
    for (const c of chunks) expect(c.tokenCount).toBeLessThanOrEqual(500);
    expect(rebuild(chunks)).toBe(text);
  });
});

describe("records and files", () => {
  it("chunks records at their boundaries and keeps the worst severity", () => {
    const records = Array.from({ length: 200 }, (_, i) => ({
      text: `2026-01-01T00:00:${String(i % 60).padStart(2, "0")}Z ${i === 150 ? "ERROR" : "INFO"} request ${i} served in ${i}ms\n`,
      severity: i === 150 ? "error" : "info",
    }));
    const { text, chunks } = chunkRecords(records, { tokenizer: "cl100k_base", maxTokens: 300, overlapTokens: 0 });
    expect(chunks.map((c) => c.text).join("")).toBe(text);
    for (const c of chunks) {
      expect(c.tokenCount).toBeLessThanOrEqual(300);
      expect(c.text.endsWith("\n")).toBe(true);
      expect(c.text.split("\n").length - 1).toBe(c.endLine - c.startLine + 1);
      expect(c.severity).toBe(c.text.includes("ERROR") ? "error" : "info");
    }
  });

  it("normalises BOM and CRLF, rejects invalid UTF-8, detects binary", () => {
    expect(normalizeText("\uFEFFa\r\nb\rc\n")).toBe("a\nb\nc\n");
    expect(decodeFile("a.txt", new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69, 0x0d, 0x0a]))).toEqual({ kind: "text", text: "hi\n" });
    expect(decodeFile("a.txt", new Uint8Array([0x68, 0xff, 0xfe, 0x69]))).toEqual({ kind: "invalid-utf8" });
    expect(decodeFile("a.bin", new Uint8Array([0x68, 0x00, 0x69]))).toEqual({ kind: "binary" });
    expect(decodeFile("logo.png", new TextEncoder().encode("looks like text"))).toEqual({ kind: "binary" });
  });

  it("types paths as code, doc or config", () => {
    expect(fileType("src/index.ts")).toBe("code");
    expect(fileType("README.md")).toBe("doc");
    expect(fileType("LICENSE")).toBe("doc");
    expect(fileType("package.json")).toBe("config");
    expect(fileType("deploy/values.yaml")).toBe("config");
    expect(fileType("Dockerfile")).toBe("config");
  });
});

describe("default ignores", () => {
  it("leave out credential files by name, and keep ordinary files of similar names", () => {
    const rules = buildIgnoreRules([]);
    const ignored = [
      "deploy/id_rsa",
      "keys/app.p12",
      "certs/client.pfx",
      "infra/prod.tfvars",
      "infra/terraform.tfstate",
      "ops/cluster.kubeconfig",
      "home/.kube/config",
      "home/.aws/credentials",
      ".npmrc",
      "gcp/service-account-prod.json",
      "secrets/.git-credentials",
    ];
    const kept = ["src/keys.ts", "docs/credentials.md", "infra/main.tf", "src/kubeconfig.ts", "config/app.json"];
    expect(ignored.filter((p) => !rules.isIgnored(p))).toEqual([]);
    expect(kept.filter((p) => rules.isIgnored(p))).toEqual([]);
  });
});
