import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { renderPiece } from "../../src/lib/assembly/prompt";
import { getEncoding } from "../../src/lib/tokenizer";

describe("prompt blocks", () => {
  it("count exactly as the sum of their parts, whatever the text inside", () => {
    const text = fc.string({ unit: fc.constantFrom("a", "Z", "9", " ", "\t", "\n", "/", "-", "}", "'", "é", "🎉", "_", "\r"), maxLength: 80 });
    const piece = fc.record({ id: fc.string({ maxLength: 12 }), path: fc.string({ maxLength: 20 }), startLine: fc.nat(), endLine: fc.nat(), text });
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 12 }), fc.constantFrom("cl100k_base", "o200k_base"), (pieces, name) => {
        const enc = getEncoding(name);
        const blocks = pieces.map((p) => renderPiece({ ...p, kind: "chunk" }));
        expect(enc.count(blocks.join(""))).toBe(blocks.reduce((n, b) => n + enc.count(b), 0));
      }),
      { numRuns: 500 },
    );
  });
});
