import fc from "fast-check";
import { getEncoding as referenceEncoding } from "js-tiktoken";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/lib/errors";
import { CLAUDE_TOKEN_FACTOR, countTokens, getEncoding, tokenizerFor } from "../../src/lib/tokenizer";

// Published expectations from tiktoken's own test suite (tests/test_encoding.py).
const REFERENCE: [name: "cl100k_base" | "o200k_base", text: string, ids: number[]][] = [
  ["cl100k_base", "hello world", [15339, 1917]],
  ["cl100k_base", "rer", [38149]],
  ["cl100k_base", "'rer", [2351, 81]],
  ["cl100k_base", "today\n ", [31213, 198, 220]],
  ["cl100k_base", "today\n \n", [31213, 27907]],
  ["cl100k_base", "👍", [9468, 239, 235]],
  ["o200k_base", "hello world", [24912, 2375]],
];

describe("encodings", () => {
  it.each(REFERENCE)("%s encodes %j as tiktoken does", (name, text, ids) => {
    expect(getEncoding(name).encode(text)).toEqual(ids);
  });

  for (const name of ["cl100k_base", "o200k_base"] as const) {
    it(`${name} matches js-tiktoken on arbitrary text`, () => {
      const ref = referenceEncoding(name);
      const enc = getEncoding(name);
      fc.assert(
        fc.property(fc.string({ unit: "grapheme", maxLength: 400 }), fc.string({ unit: "binary", maxLength: 200 }), (a, b) => {
          const text = a + b;
          const expected = ref.encode(text, [], []);
          expect(enc.encode(text)).toEqual(expected);
          expect(enc.count(text)).toBe(expected.length);
        }),
        { numRuns: 300 },
      );
    });

    it(`${name} matches js-tiktoken on source code and long runs`, () => {
      const ref = referenceEncoding(name);
      const enc = getEncoding(name);
      const samples = [
        "export function add(a: number, b: number): number {\n  return a + b;\n}\n\n\n    indented\t\ttabs  \r\n",
        "a".repeat(3000),
        " ".repeat(2049),
        "ab".repeat(1500),
        "<|endoftext|> special tokens count as text",
        "Ünïcödé — 漢字 🎉🎉 العربية",
      ];
      for (const s of samples) expect(enc.encode(s)).toEqual(ref.encode(s, [], []));
    });
  }
});

describe("countTokens", () => {
  it("picks the tokenizer from the model", () => {
    expect(tokenizerFor("gpt-4o-mini")).toBe("o200k_base");
    expect(tokenizerFor("gpt-4-turbo")).toBe("cl100k_base");
    expect(tokenizerFor("cl100k_base")).toBe("cl100k_base");
    expect(tokenizerFor("claude-sonnet-4-5")).toBe("claude");
    expect(() => tokenizerFor("llama-3")).toThrow(AppError);
  });

  it("counts Claude as cl100k scaled by the calibrated factor, rounded up", () => {
    const text = "const answer = 42; // the estimate errs high\n".repeat(50);
    const base = referenceEncoding("cl100k_base").encode(text, [], []).length;
    expect(countTokens(text, "claude-opus-4-1")).toBe(Math.ceil(base * CLAUDE_TOKEN_FACTOR));
    expect(countTokens("", "claude")).toBe(0);
  });

  it("counts pathological inputs exactly (long single line, base64, one repeated character)", () => {
    const ref = referenceEncoding("o200k_base");
    const minified = Array.from({ length: 4_000 }, (_, i) => `var v${i}=function(a,b){return a*${i}+b};`).join("");
    const base64 = btoa(String.fromCharCode(...Array.from({ length: 30_000 }, (_, i) => (i * 7919) % 256)));
    // js-tiktoken is quadratic on one long pre-token, so the reference run stays short.
    const repeated = "x".repeat(4_000);
    for (const text of [minified, base64, repeated]) expect(countTokens(text, "o200k_base")).toBe(ref.encode(text, [], []).length);
  });
});
