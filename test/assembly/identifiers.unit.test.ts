/**
 * The identifier scan behind excerpt line scores finds exactly what the Unicode regex it replaced finds, on the
 * same lines; the word matcher finds exactly the runs of identifier characters that hold a word, case aside.
 */
import { describe, expect, it } from "vitest";
import { forEachIdentifier, WordMatcher } from "../../src/lib/assembly/identifiers";

const REGEX = /[\p{L}_$][\p{L}\p{N}_$]*|\p{N}+/gu;

function byRegex(text: string): [string, number][] {
  const out: [string, number][] = [];
  for (const m of text.matchAll(REGEX)) out.push([m[0], text.slice(0, m.index).split("\n").length - 1]);
  return out;
}

function byScan(text: string): [string, number][] {
  const out: [string, number][] = [];
  forEachIdentifier(text, (name, line) => out.push([name, line]));
  return out;
}

// ASCII code, Latin-1 letters and digits (ª µ ² ¼), accents as combining marks, CJK, Cyrillic, astral letters
// and digits (𝑥 𝟙), emoji, lone surrogates, CRLF and other breaks.
const ALPHABET = [..."abzAZ_$09 \t\n\r.,(){}[]-+*/'\"#@\\ªµº²³¼ÀÿéeĀ\u0301\u200d中文Яж٣४𝑥𝟙😀\u2028\u0085", "\ud800", "\udc00"];

function randomText(seed: number, length: number): string {
  let s = seed;
  const next = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 8;
  };
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHABET[next() % ALPHABET.length];
  return out;
}

describe("forEachIdentifier", () => {
  it("matches the regex on source code", () => {
    const code = [
      "def parse_header(raw: bytes) -> dict:",
      "    size2 = len(raw) + 0x1F  # 31",
      "  const $el = document.querySelector('#app_1');",
      "",
      "fn naïve_café(x: u32) -> Вектор<f64> { 3.14e10 }",
      "let 変数 = 42; // ² and ¼ are numbers",
    ].join("\n");
    expect(byScan(code)).toEqual(byRegex(code));
    expect(byScan(code).map(([n]) => n)).toContain("naïve_café");
  });

  it("matches the regex on 2,000 random texts of every kind of character", () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const text = randomText(seed, 1 + (seed % 97));
      expect(byScan(text), JSON.stringify(text)).toEqual(byRegex(text));
    }
  });

  it("passes over names shorter than the minimum length", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const text = randomText(seed, 1 + (seed % 97));
      const long: [string, number][] = [];
      forEachIdentifier(text, (name, line) => long.push([name, line]), 2);
      expect(long).toEqual(byRegex(text).filter(([n]) => n.length >= 2));
    }
  });

  it("finds nothing in an empty text or one without names", () => {
    expect(byScan("")).toEqual([]);
    expect(byScan(" \n\t(){}\n")).toEqual([]);
  });
});

/** The runs of identifier characters holding any of the words (ASCII case aside), by regex. */
function runsHolding(text: string, words: string[]): [string, number][] {
  const lower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const out: [string, number][] = [];
  for (const m of text.matchAll(/[\p{L}\p{N}_$]+/gu))
    if (words.some((w) => lower(m[0]).includes(w))) out.push([m[0], text.slice(0, m.index).split("\n").length - 1]);
  return out;
}

function runsFound(text: string, matcher: WordMatcher | undefined): [string, number][] {
  const out: [string, number][] = [];
  matcher?.forEachRun(text, (run, line) => out.push([run, line]));
  return out;
}

// Words that overlap, nest and share prefixes and suffixes, so that failure moves are taken.
const WORDS = ["ab", "b", "abz", "bza", "z_", "_z", "$0", "09", "a", "zz", "ba$"];

describe("WordMatcher", () => {
  it("finds the runs holding overlapping words, case aside", () => {
    const matcher = WordMatcher.of(["he", "she", "his", "hers"]);
    expect(runsFound("uSHErs x_he\nno heX, Hi\nthis", matcher)).toEqual([
      ["uSHErs", 0],
      ["x_he", 0],
      ["heX", 1],
      ["this", 2],
    ]);
  });

  it("equals the regex on 2,000 random texts and word sets", () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const text = randomText(seed, 1 + (seed % 97)) + WORDS.filter((_, i) => (seed >> i) & 1).join(seed % 3 ? "" : "Z");
      const words = WORDS.filter((_, i) => ((seed * 7) >> i) % 3 === 0).map((w) => (seed % 4 === 0 ? w.toUpperCase() : w));
      const sought = words.map((w) => w.toLowerCase());
      expect(runsFound(text, WordMatcher.of(words)), JSON.stringify({ text, words })).toEqual(sought.length ? runsHolding(text, sought) : []);
    }
  });

  it("has nothing to find when no word is made of ASCII identifier characters", () => {
    expect(WordMatcher.of([])).toBeUndefined();
    expect(WordMatcher.of(["read file", "é", "a-b"])).toBeUndefined();
    expect(runsFound("a read file a-b", WordMatcher.of(["read file", "ab"]))).toEqual([]);
  });
});
