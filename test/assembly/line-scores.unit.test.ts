/**
 * Excerpt line scores: the scan that visits only names holding a focus term gives exactly the scores of the
 * scan that splits every name, on real code and on random text.
 */
import { describe, expect, it } from "vitest";
import { forEachIdentifier } from "../../src/lib/assembly/identifiers";
import { type FocusTerms, focusTerms, lineScores } from "../../src/lib/assembly/pieces";
import { termsOf } from "../../src/lib/retrieval/terms";

/** Every name scanned and split: the scores as first defined. */
function reference(text: string, lineCount: number, focus: FocusTerms): number[] {
  const scores = new Array<number>(lineCount).fill(0);
  const termLine = new Map<string, number>();
  const namedLine = new Map<string, number>();
  forEachIdentifier(
    text,
    (name, line) => {
      if (line >= lineCount) return;
      for (const t of new Set(termsOf(name).filter((t) => focus.terms.has(t)))) {
        if (termLine.get(t) === line) continue;
        termLine.set(t, line);
        scores[line] = (scores[line] as number) + 1;
      }
      if (focus.identifiers.has(name) && namedLine.get(name) !== line) {
        namedLine.set(name, line);
        scores[line] = (scores[line] as number) + 3;
      }
    },
    2,
  );
  return scores;
}

const lineCount = (text: string): number => text.split("\n").length;

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 8;
  };
}

// Non-ASCII names: letters, a letter beyond the BMP (a surrogate pair) inside a name, and the Kelvin sign (lower-cased, "k").
const WORDS = [
  "parse",
  "Config",
  "HTTP",
  "request",
  "read_file",
  "$el",
  "x",
  "v2",
  "utf8",
  "Token",
  "node",
  "emit",
  "get",
  "_private",
  "key",
  "ÄÖ",
  "naïve",
  "ab\u{1d4b3}parse",
  "\u212aey",
];
// " 42" opens a run with digits ("42parse"): a number, then a name.
const GLUE = [" ", ".", "(", ")", "\n", "_", "", "123", " 42", "\r\n", " = ", "$", "\t"];

function randomCode(next: () => number, words: number, ascii: boolean): string {
  let out = "";
  const pool = ascii ? WORDS.filter((w) => !/[\u0080-\uffff]/.test(w)) : WORDS;
  for (let i = 0; i < words; i++) out += `${pool[next() % pool.length]}${GLUE[next() % GLUE.length]}`;
  return out;
}

describe("lineScores", () => {
  it("equals the every-name scan on real code (the source of the functions involved, as the bundle holds it)", () => {
    const prompt = "TypeError in forEachIdentifier: termLine is undefined while scoring lines of namedLine; see lineScores and focusTerms";
    for (const f of [reference, lineScores, focusTerms, termsOf, forEachIdentifier]) {
      const text = f.toString();
      const scores = lineScores(text, lineCount(text), focusTerms(prompt));
      expect(scores, f.name).toEqual(reference(text, lineCount(text), focusTerms(prompt)));
      expect(
        scores.some((n) => n > 0),
        f.name,
      ).toBe(true);
    }
  });

  it("equals the every-name scan on 1,000 random texts, ASCII and not, with random focus terms", () => {
    for (let seed = 1; seed <= 1000; seed++) {
      const next = rng(seed);
      const text = randomCode(next, 1 + (next() % 60), seed % 3 !== 0);
      const prompt = randomCode(next, 1 + (next() % 8), seed % 5 !== 0);
      const lines = lineCount(text) - (seed % 4 === 0 ? 1 : 0);
      expect(lineScores(text, lines, focusTerms(prompt)), JSON.stringify({ text, prompt })).toEqual(reference(text, lines, focusTerms(prompt)));
    }
  });

  it("scores nothing when the prompt has no term to look for", () => {
    expect(focusTerms("").matcher).toBeUndefined();
    expect(lineScores("parse(config)\n", 1, focusTerms(""))).toEqual([0]);
  });
});
