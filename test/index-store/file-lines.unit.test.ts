import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chunkText } from "../../src/lib/chunker";
import { linesOf } from "../../src/lib/index-store/file-lines";

const rowsOf = (text: string, maxTokens: number, overlapTokens: number) =>
  chunkText(text, { tokenizer: "cl100k_base", maxTokens, overlapTokens }).map((c) => ({ start_line: c.startLine, end_line: c.endLine, text: c.text }));

describe("linesOf: a file's lines rebuilt from its chunks", () => {
  it("takes overlapping lines once and joins the pieces of a line longer than a chunk", () => {
    const long = "x".repeat(3000);
    const text = `a\nb\n${long}\nc\n`;
    const rows = rowsOf(text, 256, 128);
    expect(rows.filter((r) => r.start_line === 3 && r.end_line === 3).length).toBeGreaterThan(1);
    expect([...linesOf(rows).entries()]).toEqual([
      [1, "a"],
      [2, "b"],
      [3, long],
      [4, "c"],
    ]);
  });

  it("rebuilds every line of any text, whatever the chunk size and overlap", () => {
    const line = fc.stringMatching(/^[a-z (){};=]{0,80}$/);
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 120 }), fc.integer({ min: 64, max: 400 }), (lines, max) => {
        const text = `${lines.join("\n")}\n`;
        const rebuilt = linesOf(rowsOf(text, max, Math.min(128, Math.floor(max / 3))));
        expect(lines.map((_, i) => rebuilt.get(i + 1))).toEqual(lines);
      }),
      { numRuns: 60 },
    );
  });
});
