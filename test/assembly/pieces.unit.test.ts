import { describe, expect, it } from "vitest";
import {
  asPiece,
  chunkParts,
  definitionEnd,
  excerpt,
  type FocusTerms,
  focusTerms,
  isCounted,
  linePrefixWithin,
  linesOutside,
  wholeFile,
  widened,
} from "../../src/lib/assembly/pieces";
import type { ChunkBody } from "../../src/lib/assembly/types";
import { body, charCounter } from "./support";

/** An excerpt the test expects to exist. */
function cutOf(b: ChunkBody, focus: FocusTerms, cap: number) {
  const cut = excerpt(b, focus, cap, charCounter);
  if (!cut) throw new Error("no excerpt");
  return cut;
}

describe("pieces", () => {
  it("takes a whole file as its chunks without the lines a chunk repeats from the one before", () => {
    const a = body("a", "f.ts", 1, ["l1", "l2", "l3"], 0);
    const b = body("b", "f.ts", 3, ["l3", "l4"], 1);
    const pieces = wholeFile([b, a], (c) => c, charCounter);
    expect(pieces.map((p) => [p.piece.id, p.piece.startLine, p.piece.endLine, p.piece.text])).toEqual([
      ["a", 1, 3, "l1\nl2\nl3\n"],
      ["b", 4, 4, "l4\n"],
    ]);
    expect(pieces[0]).toEqual(asPiece(a));
  });

  it("cuts a chunk to the window with the most prompt terms, and gives the lines it left out", () => {
    const b = body("c", "f.ts", 10, ["alpha", "beta", "parseConfig here", "gamma", "delta"]);
    // About 3.2 characters a token: a cap of 6 holds the 17-character line and nothing beside it.
    const cut = cutOf(b, focusTerms("where is parseConfig"), 6);
    expect([cut.piece.startLine, cut.piece.endLine]).toEqual([12, 12]);
    expect(cut.piece.text).toBe("parseConfig here\n");
    expect(isCounted(cut)).toBe(true);
    expect(linesOutside(b, cut.piece, charCounter).map(({ piece: p }) => [p.startLine, p.endLine, p.text])).toEqual([
      [10, 11, "alpha\nbeta\n"],
      [13, 14, "gamma\ndelta\n"],
    ]);
  });

  it("gives no excerpt of a chunk none of whose lines fits the cap (a minified line), and skips such lines in one that has others", () => {
    const minified = `var parseConfig=function(a){${"a=a+1;".repeat(40)}};`;
    expect(excerpt(body("m", "dist/app.min.js", 1, [minified]), focusTerms("parseConfig fails"), 50, charCounter)).toBeUndefined();
    const mixed = cutOf(body("n", "dist/app.js", 1, [minified, "parseConfig(a)", minified]), focusTerms("parseConfig fails"), 50);
    expect([mixed.piece.startLine, mixed.piece.endLine]).toEqual([2, 2]);
  });

  it("widens an excerpt evenly to a cap, the other side taking what an edge leaves, and cuts a chunk's lines into parts", () => {
    // Lines of 15 characters: 5 tokens each by the estimate (16 / 3.2).
    const b = body(
      "c",
      "f.ts",
      10,
      Array.from({ length: 20 }, (_, i) => `line number ${String(i).padStart(3, "0")}`),
    );
    const cut = { id: "c", kind: "chunk" as const, path: "f.ts", startLine: 15, endLine: 16, text: "" };
    expect(widened(b, cut, 20, "cl100k_base")).toEqual({ startLine: 13, endLine: 18 });
    expect(widened(b, cut, 19, "cl100k_base")).toEqual({ startLine: 13, endLine: 17 });
    // Near the chunk's start, the lines after take what the lines before cannot.
    expect(widened(b, { ...cut, startLine: 11, endLine: 11 }, 40, "cl100k_base")).toEqual({ startLine: 10, endLine: 18 });
    expect(widened(b, cut, Number.POSITIVE_INFINITY, "cl100k_base")).toEqual({ startLine: 10, endLine: 29 });
    const parts = chunkParts(
      b,
      [
        { startLine: 10, endLine: 11 },
        { startLine: 20, endLine: 19 },
        { startLine: 29, endLine: 29 },
      ],
      charCounter,
    );
    expect(parts.map(({ piece: p }) => [p.id, p.startLine, p.endLine, p.text])).toEqual([
      ["c", 10, 11, "line number 000\nline number 001\n"],
      ["c", 29, 29, "line number 019\n"],
    ]);
  });

  it("centres an excerpt on a line the prompt points at (a traceback frame) over lines rich in its terms", () => {
    const lines = Array.from({ length: 40 }, (_, i) => (i < 5 ? "parseConfig parseConfig here" : `filler line ${i}`));
    const b = body("c", "pkg/conf.py", 1, lines);
    const cut = cutOf(b, focusTerms("parseConfig fails", new Map([["pkg/conf.py", [30]]])), 12);
    expect(cut.piece.startLine).toBeLessThanOrEqual(30);
    expect(cut.piece.endLine).toBeGreaterThanOrEqual(30);
    expect(cutOf(b, focusTerms("parseConfig fails"), 12).piece.startLine).toBeLessThanOrEqual(5);
  });

  it("keeps a few lines before its first scoring line and gives the rest of its room to the lines after", () => {
    // Lines of equal length (5 tokens each by the estimate): a cap of 30 holds six of them.
    const lines = [
      ...Array.from({ length: 10 }, (_, i) => `filler line ${String(i).padStart(2, "0")}`),
      "parseConfig(0);",
      ...Array.from({ length: 10 }, (_, i) => `bodyof line ${String(i).padStart(2, "0")}`),
    ];
    const cut = cutOf(body("c", "pkg/conf.py", 1, lines), focusTerms("parseConfig fails"), 30);
    // The scoring line is line 11: the window opens just before it and runs on after it.
    expect(cut.piece.startLine).toBeGreaterThanOrEqual(8);
    expect(cut.piece.startLine).toBeLessThanOrEqual(11);
    expect(cut.piece.endLine - cut.piece.startLine).toBe(5);
  });

  it("leans an excerpt to where the prompt's identifier is defined over lines that only call it", () => {
    const lines = [
      "x = parseConfig(a)",
      "y = parseConfig(b)",
      ...Array.from({ length: 10 }, (_, i) => `filler ${i}`),
      "def parseConfig(path):",
      "    return load(path)",
    ];
    const b = body("c", "pkg/conf.py", 1, lines);
    // A cap of 12 holds the two calls (about 6 tokens each) or the definition's line alone; its body comes with it.
    const cut = cutOf(b, focusTerms("parseConfig fails on an empty file"), 12);
    expect(cut.piece.endLine).toBe(14);
    expect(cut.piece.text).toMatch(/^(filler 9\n)?def parseConfig\(path\):\n {4}return load\(path\)\n$/);
    // A line that only mentions a term of the identifier is no definition of it.
    const loose = body("d", "pkg/conf.py", 1, ["x = parseConfig(a)", "y = parseConfig(b)", "filler", "def config_path():"]);
    expect(cutOf(loose, focusTerms("parseConfig fails on an empty file"), 12).piece.startLine).toBe(1);
  });

  it("leans an excerpt to the definition of a member the prose calls (`xr.where`), not to its plain word's every use", () => {
    const lines = [
      "x = where(a, b)",
      "y = where(c, d)",
      ...Array.from({ length: 10 }, (_, i) => `filler ${i}`),
      "def where(cond, x, y):",
      "    return apply(cond)",
    ];
    const b = body("w", "pkg/computation.py", 1, lines);
    const cut = cutOf(b, focusTerms("`xr.where` drops the attributes of its arguments"), 12);
    expect(cut.piece.text).toContain("def where(cond, x, y):\n");
    // The same word in plain prose names no member: no definition is sought.
    expect(cutOf(b, focusTerms("attributes are dropped where the condition holds"), 12).piece.text).not.toContain("def where");
  });

  it("takes the rest of a named definition's body with its excerpt, when it stays within a few caps", () => {
    const lines = [
      ...Array.from({ length: 9 }, (_, i) => `filler line ${String(i).padStart(2, "0")}`),
      "def parse_config(p):",
      "    t = read(p)",
      "    return load(t)",
      "def other_thing():",
      "    return 0",
    ];
    const cut = cutOf(body("c", "pkg/conf.py", 1, lines), focusTerms("parse_config fails on an empty file"), 14);
    expect(cut.piece.endLine).toBe(12);
    expect(cut.piece.text).toContain("def parse_config(p):\n    t = read(p)\n    return load(t)\n");
    // A body past the stretch leaves the window as the cap made it.
    const long = [...lines.slice(0, 10), ...Array.from({ length: 40 }, (_, i) => `    step_${i}(p)`), "def other_thing():"];
    const capped = cutOf(body("d", "pkg/conf.py", 1, long), focusTerms("parse_config fails on an empty file"), 14);
    expect(capped.piece.endLine).toBeLessThan(14);
  });

  it("finds where a definition ends: its body's last line, a closing brace, a signature's closing line", () => {
    expect(definitionEnd(["def f(", "    a,", "):", "    return a", "", "x = 1"], 0)).toBe(3);
    expect(definitionEnd(["fn f() {", "    body();", "}", "fn g() {"], 0)).toBe(2);
    expect(definitionEnd(["    def m(self):", "        return 1", "", "    def n(self):"], 0)).toBe(1);
    expect(definitionEnd(["def last():", "    return 1", ""], 0)).toBe(1);
  });

  it("finds the longest whole-line prefix within a count, or none", () => {
    expect(linePrefixWithin("ab\ncd\nef", 6, (s) => s.length)).toEqual({ text: "ab\ncd\n", lines: 2, tokens: 6 });
    expect(linePrefixWithin("ab\ncd\nef", 8, (s) => s.length)).toEqual({ text: "ab\ncd\nef", lines: 3, tokens: 8 });
    expect(linePrefixWithin("abc\n", 2, (s) => s.length)).toBeUndefined();
    expect(linePrefixWithin("abc\n", 0, (s) => s.length)).toBeUndefined();
  });

  it("counts a text's lines no further than the one that passes the count", () => {
    const counted: string[] = [];
    const count = (s: string): number => {
      counted.push(s);
      return s.length;
    };
    const text = Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join("");
    expect(linePrefixWithin(text, 20, count)).toEqual({ text: "line 0\nline 1\n", lines: 2, tokens: 14 });
    expect(counted).toEqual(["line 0\n", "line 1\n", "line 2\n"]);
  });
});
