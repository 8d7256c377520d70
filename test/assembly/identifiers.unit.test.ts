/** The identifier scan behind excerpt line scores finds exactly what the Unicode regex it replaced finds, on the same lines. */
import { describe, expect, it } from "vitest";
import { forEachIdentifier } from "../../src/lib/assembly/identifiers";

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
