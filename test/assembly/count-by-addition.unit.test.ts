/**
 * Pieces are counted by addition where tiktoken's pre-tokenizer makes that exact (pieces.ts): these
 * tests hold every such count to a fresh encoding of the rendered block, with the real tokenizers.
 */
import { describe, expect, it } from "vitest";
import { TokenBudget } from "../../src/lib/assembly/budget";
import {
  type CountedPiece,
  chunkLines,
  chunkParts,
  countLines,
  countPiece,
  linePrefixWithin,
  lineSegments,
  linesOutside,
  startsCleanly,
} from "../../src/lib/assembly/pieces";
import { renderPiece } from "../../src/lib/assembly/prompt";
import type { ChunkBody } from "../../src/lib/assembly/types";
import type { Tokenizer } from "../../src/lib/tokenizer";

// Code as repositories hold it: indentation, blank lines (some with spaces), comments after punctuation
// (o200k joins "{\n/"), a marker line that needs escaping, CRLF, tabs, non-ASCII, a last line without newline.
const SOURCE = [
  "import { parse } from './parse';",
  "",
  "export function load(path: string) {",
  "  // read the file",
  "  const text = read(path);",
  "    ",
  "\tif (!text) {",
  "// a comment at column 0 after an opening brace",
  "    throw new Error('missing ' + path);",
  "  }",
  "/** doc */",
  "  return parse(text); // → ok",
  "}",
  "",
  "",
  "def résumé(x):\r",
  '    """Docstring."""',
  "---source: not a real marker",
  "    return x * 2",
  "12345",
  "  'quoted'",
  "}",
].join("\n");

const TOKENIZERS: Tokenizer[] = ["cl100k_base", "o200k_base", "claude"];

function chunkOf(text: string, startLine: number, budget: TokenBudget): ChunkBody {
  const piece = { id: "c1", kind: "chunk" as const, path: "src/load.ts", startLine, endLine: startLine + text.split("\n").length - 2, text };
  return {
    chunkId: "c1",
    path: piece.path,
    ordinal: 0,
    startLine,
    endLine: piece.endLine,
    text,
    tokens: budget.modelCount(text),
    block: budget.base(renderPiece(piece)),
  };
}

const fresh = (budget: TokenBudget, c: CountedPiece | { piece: CountedPiece["piece"]; block: number; tokens: number }) => ({
  block: budget.base(renderPiece(c.piece)),
  tokens: budget.modelCount(c.piece.text),
});

describe("counting pieces by addition", () => {
  it("tells where a text begins a new pre-token", () => {
    expect(startsCleanly("  return x;\n")).toBe(true);
    expect(startsCleanly("\tif (a) {\n")).toBe(true);
    expect(startsCleanly("// comment\n")).toBe(false);
    expect(startsCleanly("    \n  x\n")).toBe(false);
    expect(startsCleanly("\nx\n")).toBe(false);
    expect(startsCleanly("\rx\n")).toBe(false);
  });

  for (const tokenizer of TOKENIZERS) {
    it(`counts every run of a chunk's lines exactly from its line segments (${tokenizer})`, () => {
      const budget = new TokenBudget(500_000, tokenizer);
      const lines = SOURCE.split("\n");
      for (let from = 0; from < lines.length; from++) {
        const text = `${lines.slice(from).join("\n")}\n`;
        const body = chunkOf(text, from + 1, budget);
        const chunk = chunkLines(text);
        const segs = lineSegments(chunk, budget);
        // Every line is in one segment, and the segments add up to the chunk.
        expect([...segs].filter((n) => n >= 0).reduce((n, t) => n + t, 0)).toBe(budget.base(text));
        for (let a = 0; a < chunk.length; a++) {
          for (let b = a; b < chunk.length; b++) {
            const piece = {
              id: "c1",
              kind: "chunk" as const,
              path: body.path,
              startLine: from + 1 + a,
              endLine: from + 1 + b,
              text: `${chunk.slice(a, b + 1).join("\n")}\n`,
            };
            const counted = countLines(piece, chunk, segs, a, b, budget);
            expect({ block: counted.block, tokens: counted.tokens }, `lines ${a}-${b} of a chunk from ${from}`).toEqual(fresh(budget, counted));
            if (a > 0 || b < chunk.length - 1)
              for (const rest of linesOutside(body, counted.piece, budget, segs))
                expect({ block: rest.block, tokens: rest.tokens }).toEqual(fresh(budget, rest));
          }
        }
      }
    });

    it(`counts every piece and every excerpt's rest exactly (${tokenizer})`, () => {
      const budget = new TokenBudget(500_000, tokenizer);
      const lines = SOURCE.split("\n");
      // Every chunk of whole lines ending in a newline, every excerpt window of it.
      for (let from = 0; from < lines.length; from++) {
        for (let to = from + 1; to <= lines.length; to++) {
          const text = `${lines.slice(from, to).join("\n")}\n`;
          const body = chunkOf(text, from + 1, budget);
          const whole = countPiece({ id: "c1", kind: "chunk", path: body.path, startLine: body.startLine, endLine: body.endLine, text }, budget);
          expect({ block: whole.block, tokens: whole.tokens }).toEqual(fresh(budget, whole));
          for (let a = from; a < to; a++) {
            for (let b = a + 1; b <= to; b++) {
              const cut = countPiece({ ...whole.piece, startLine: a + 1, endLine: b, text: `${lines.slice(a, b).join("\n")}\n` }, budget);
              for (const rest of linesOutside(body, cut.piece, budget)) expect({ block: rest.block, tokens: rest.tokens }).toEqual(fresh(budget, rest));
              // Any lines of the chunk as one part: counted by addition over its segments, or encoded without them.
              for (const segs of [lineSegments(chunkLines(text), budget), undefined])
                for (const part of chunkParts(body, [{ startLine: a + 1, endLine: b }], budget, segs))
                  expect({ block: part.block, tokens: part.tokens }).toEqual(fresh(budget, part));
            }
          }
        }
      }
    });

    it(`finds the longest line prefix within a count exactly, counting it by addition (${tokenizer})`, () => {
      const budget = new TokenBudget(500_000, tokenizer);
      const lines = SOURCE.split("\n");
      for (let from = 0; from < lines.length; from += 3) {
        // Ending at every line, with and without a final newline.
        const texts = lines.slice(from).flatMap((_, i) => [`${lines.slice(from, from + i + 1).join("\n")}\n`, lines.slice(from, from + i + 1).join("\n")]);
        for (const text of texts) {
          const ends = [...text.matchAll(/\n/g)].map((m) => (m.index as number) + 1);
          if (!text.endsWith("\n")) ends.push(text.length);
          const counts = ends.map((e) => budget.base(text.slice(0, e)));
          for (let max = 0; max <= (counts[counts.length - 1] as number) + 1; max++) {
            // What a fresh encoding of every prefix says: the most lines whose prefix counts within max.
            const n = counts.filter((c) => c <= max).length;
            const expected = n === 0 || max === 0 ? undefined : { text: text.slice(0, ends[n - 1]), lines: n, tokens: counts[n - 1] };
            expect(linePrefixWithin(text, max, budget.base), `${max} tokens from line ${from}`).toEqual(expected);
          }
        }
      }
    });
  }
});
