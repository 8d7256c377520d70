/** The console's side-by-side rows of a unified diff (console/lib/diff-rows.ts). */
import { describe, expect, it } from "vitest";
import { sideBySide, wholeFileRows } from "../../console/lib/diff-rows";

const ctx = (l: number, r: number, text: string) => ({ kind: "line", left: { n: l, text, kind: "ctx" }, right: { n: r, text, kind: "ctx" } });
const del = (n: number, text: string) => ({ n, text, kind: "del" });
const add = (n: number, text: string) => ({ n, text, kind: "add" });

describe("sideBySide", () => {
  it("pairs a run of removed lines with the run of added lines that replaces it, numbering each side", () => {
    const diff = ["--- a/x.ts", "+++ b/x.ts", "@@ -10,4 +10,5 @@", " a", "-b", "-c", "+B", "+C", "+D", " e", ""].join("\n");
    expect(sideBySide(diff)).toEqual([
      { kind: "file", text: "--- a/x.ts" },
      { kind: "file", text: "+++ b/x.ts" },
      { kind: "hunk", text: "@@ -10,4 +10,5 @@" },
      ctx(10, 10, "a"),
      { kind: "line", left: del(11, "b"), right: add(11, "B") },
      { kind: "line", left: del(12, "c"), right: add(12, "C") },
      { kind: "line", left: null, right: add(13, "D") },
      ctx(13, 14, "e"),
    ]);
  });

  it("reads a hunk by its counts: a removed line starting with -- is not a file header, and later hunks renumber", () => {
    const diff = ["@@ -1,2 +1 @@", "--- a comment", " kept", "@@ -20 +19,2 @@", " x", "+y", "\\ No newline at end of file"].join("\n");
    expect(sideBySide(diff)).toEqual([
      { kind: "hunk", text: "@@ -1,2 +1 @@" },
      { kind: "line", left: del(1, "-- a comment"), right: null },
      ctx(2, 1, "kept"),
      { kind: "hunk", text: "@@ -20 +19,2 @@" },
      ctx(20, 19, "x"),
      { kind: "line", left: null, right: add(20, "y") },
    ]);
  });

  it("takes a blank line inside a hunk (its space stripped) as context", () => {
    expect(sideBySide("@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n")).toEqual([
      { kind: "hunk", text: "@@ -1,3 +1,3 @@" },
      ctx(1, 1, "a"),
      ctx(2, 2, ""),
      { kind: "line", left: del(3, "b"), right: add(3, "c") },
    ]);
  });
});

describe("wholeFileRows", () => {
  it("shows a whole new file as added lines on the right", () => {
    expect(wholeFileRows("n.ts", "one\ntwo\n")).toEqual([
      { kind: "file", text: "n.ts (whole file)" },
      { kind: "line", left: null, right: add(1, "one") },
      { kind: "line", left: null, right: add(2, "two") },
    ]);
  });
});
