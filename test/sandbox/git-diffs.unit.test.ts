/** Diffs printed by the real git (test/node/git-diffs.ts) apply to the tree they were made from and give git's own result. */
import { describe, expect, inject, it } from "vitest";
import { AppError } from "../../src/lib/errors";
import { applyChange } from "../../src/lib/sandbox/apply-change";
import { parseUnifiedDiff } from "../../src/lib/sandbox/unified-diff";

const cases = inject("gitDiffs");
const caseNamed = (name: string) => {
  const c = cases.find((x) => x.name === name);
  if (!c) throw new Error(`no git diff case ${name}`);
  return c;
};
const apply = (before: Record<string, string>, diff: string): Record<string, string> =>
  Object.fromEntries([...applyChange(new Map(Object.entries(before)), { files: [], deletions: [], diff }).tree].sort(([a], [b]) => a.localeCompare(b)));
const sorted = (files: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));

function failure(before: Record<string, string>, diff: string): { status: number; code: string; message: string } {
  try {
    apply(before, diff);
  } catch (e) {
    if (e instanceof AppError) return { status: e.status, code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected the diff to be refused");
}

describe("diffs as git prints them", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s: applies and gives git's own tree", (_name, c) => {
    expect(apply(c.before, c.diff)).toEqual(sorted(c.after));
  });

  it("reads git's extended headers: renames, copies, modes, created and deleted files without hunks, quoted paths", () => {
    const kinds = (name: string) => parseUnifiedDiff(caseNamed(name).diff).map((p) => [p.kind, p.oldPath, p.newPath, p.hunks.length]);
    expect(kinds("a rename without a change")).toEqual([["rename", "old/name.py", "new/name.py", 0]]);
    expect(kinds("a copy")).toEqual([["copy", "base.txt", "copy.txt", 0]]);
    expect(kinds("a new empty file")).toEqual([["create", null, "empty.txt", 0]]);
    expect(kinds("deleted files, one empty")).toEqual([
      ["delete", "gone-empty.txt", null, 0],
      ["delete", "gone.txt", null, 1],
    ]);
    expect(parseUnifiedDiff(caseNamed("a mode change only").diff)).toMatchObject([{ kind: "modify", oldPath: "run.sh", newMode: "100755", hunks: [] }]);
    expect(caseNamed("quoted paths: a space, a quote, non-ASCII").diff).toContain('"a/caf\\303\\251/cr\\303\\250me.txt"');
    expect(parseUnifiedDiff(caseNamed("quoted paths: a space, a quote, non-ASCII").diff).map((p) => p.newPath)).toEqual([
      "café/crème.txt",
      "docs/read me.txt",
      "nouveau fichier é.txt",
      'say "hi".txt',
    ]);
  });

  it("applies a hunk a few lines off its stated position where its lines match exactly", () => {
    const c = caseNamed("several hunks in one file");
    const drift = "header 1\nheader 2\nheader 3\n";
    const out = apply({ "src/long.txt": drift + c.before["src/long.txt"] }, c.diff);
    expect(out["src/long.txt"]).toBe(drift + c.after["src/long.txt"]);
    // A line fewer between the hunks: the second hunk moves up.
    const shorter = (c.before["src/long.txt"] ?? "").replace("line 10\n", "");
    expect(apply({ "src/long.txt": shorter }, c.diff)["src/long.txt"]).toBe((c.after["src/long.txt"] ?? "").replace("line 10\n", ""));
  });

  it("tolerates CRLF: a CRLF diff on an LF file, an LF diff on a CRLF file", () => {
    const c = caseNamed("several hunks in one file");
    expect(apply(c.before, c.diff.replace(/\n/g, "\r\n"))).toEqual(sorted(c.after));
    const crlf = (s: string | undefined): string => (s ?? "").replace(/\n/g, "\r\n");
    expect(apply({ "src/long.txt": crlf(c.before["src/long.txt"]) }, c.diff)["src/long.txt"]).toBe(crlf(c.after["src/long.txt"]));
  });

  it("still refuses what does not match exactly, naming the file, the hunk and the line", () => {
    const c = caseNamed("several hunks in one file");
    const f = failure({ "src/long.txt": (c.before["src/long.txt"] ?? "").replace("line 30\n", "line thirty\n") }, c.diff);
    expect(f).toMatchObject({ status: 422, code: "patch_failed" });
    expect(f.message).toBe(
      'src/long.txt: hunk 2 (@@ -28,6 +28,7 @@) does not apply: expected line 30 to be "line 30" but it is "line thirty", and its lines match nowhere else in the file',
    );
  });

  it("refuses renames and copies out of the tree, a rename of a missing file, and a created file that exists", () => {
    const rename = (from: string, to: string) => `diff --git a/${from} b/${to}\nsimilarity index 100%\nrename from ${from}\nrename to ${to}\n`;
    expect(failure({ "a.txt": "a\n" }, rename("a.txt", "../../etc/cron.d/x"))).toMatchObject({ status: 400, code: "unsafe_path" });
    expect(failure({ "a.txt": "a\n" }, rename("../outside", "a2.txt"))).toMatchObject({ status: 400, code: "unsafe_path" });
    expect(failure({ "a.txt": "a\n" }, rename("missing.txt", "b.txt")).message).toBe("missing.txt: the diff changes a file that does not exist");
    const created = caseNamed("a new empty file");
    expect(failure({ ...created.before, "empty.txt": "x\n" }, created.diff).message).toBe("empty.txt: the diff creates a file that already exists");
    expect(failure({ "a.txt": "a\n" }, "diff --git a/a.png b/a.png\nindex 1..2 100644\nBinary files a/a.png and b/a.png differ\n").message).toContain(
      "a binary file",
    );
  });

  it("swaps two files renamed into each other", () => {
    const diff =
      "diff --git a/x b/y\nsimilarity index 100%\nrename from x\nrename to y\ndiff --git a/y b/x\nsimilarity index 100%\nrename from y\nrename to x\n";
    expect(apply({ x: "X\n", y: "Y\n" }, diff)).toEqual({ x: "Y\n", y: "X\n" });
  });
});
