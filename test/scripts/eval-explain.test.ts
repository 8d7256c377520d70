/**
 * `npm run eval -- --explain <budget>`: the changed lines a context misses at a budget, each with the piece of
 * the larger context that holds it and how many tokens come before that piece.
 */
import { describe, expect, it } from "vitest";
import { type ExplainedPiece, explainLines, missedLines } from "../../scripts/eval/explain";

const piece = (sourcePath: string, startLine: number, endLine: number, tokenCount: number, reasons = ["lexical match"]): ExplainedPiece => ({
  kind: "chunk",
  sourcePath,
  startLine,
  endLine,
  tokenCount,
  score: 0.05,
  reasons,
});

// The larger context, in order: a.py's excerpt, b.py whole, a summary, a.py's rest, c.py.
const context: ExplainedPiece[] = [
  piece("a.py", 10, 20, 400),
  piece("b.py", 1, 30, 500),
  { ...piece("a.py", 0, 0, 300), kind: "file summary" },
  piece("a.py", 21, 90, 2000, ["lexical match", "symbol link"]),
  piece("c.py", 1, 5, 100),
];

describe("missedLines", () => {
  it("lists the changed lines outside the budget's pieces, each with the later piece that holds it and the tokens before it", () => {
    const gold = new Map([
      ["a.py", [15, 40, 40, 95]],
      ["b.py", [3]],
    ]);
    expect(missedLines(context, gold, 1000)).toEqual([
      {
        path: "a.py",
        rank: 0,
        firstAt: 0,
        missed: [
          // Summaries are not chunk pieces: a.py's rest comes after 900 tokens of chunks, and ends past 1,000.
          { line: 40, piece: { at: 900, startLine: 21, endLine: 90, tokens: 2000, score: 0.05, reasons: ["lexical match", "symbol link"] } },
          { line: 95 },
        ],
      },
    ]);
  });

  it("counts a piece inside once it ends within the budget", () => {
    expect(missedLines(context, new Map([["a.py", [40]]]), 2900)).toEqual([]);
    expect(missedLines(context, new Map([["a.py", [40]]]), 2899)).toHaveLength(1);
  });

  it("reports a changed file the context never reaches", () => {
    expect(missedLines(context, new Map([["d.py", [1]]]), 1000)).toEqual([{ path: "d.py", rank: -1, firstAt: -1, missed: [{ line: 1 }] }]);
  });
});

describe("explainLines", () => {
  it("groups a file's missed lines by the piece that holds them", () => {
    const gold = new Map([["a.py", [15, 40, 41, 95]]]);
    expect(explainLines(missedLines(context, gold, 1000))).toEqual([
      "    a.py: file #1, first piece at 0.0k",
      "      lines 40,41 in 21-90 (2000 tokens) at 0.9k, score 0.0500: lexical match, symbol link",
      "      lines 95 in no piece",
    ]);
  });
});
