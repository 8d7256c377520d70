import { describe, expect, it } from "vitest";
import { AppError } from "../../src/lib/errors";
import { applyChange, type Change } from "../../src/lib/sandbox/apply-change";

const tree = new Map([
  ["src/math.js", "export function add(a, b) {\n  return a + b;\n}\n\nexport function sub(a, b) {\n  return a - b;\n}\n"],
  ["README.md", "# demo\n"],
]);

const change = (c: Partial<Change>): Change => ({ files: [], deletions: [], ...c });

function failure(c: Change): { status: number; code: string; message: string } {
  try {
    applyChange(tree, c);
  } catch (e) {
    if (e instanceof AppError) return { status: e.status, code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected the change to be refused");
}

describe("applyChange", () => {
  it("applies a git diff with several hunks, a new file and a deletion", () => {
    const diff = [
      "diff --git a/src/math.js b/src/math.js",
      "--- a/src/math.js",
      "+++ b/src/math.js",
      "@@ -1,3 +1,4 @@",
      " export function add(a, b) {",
      "+  // adds",
      "   return a + b;",
      " }",
      "@@ -5,3 +6,3 @@",
      " export function sub(a, b) {",
      "-  return a - b;",
      "+  return a - b - 0;",
      " }",
      "--- /dev/null",
      "+++ b/src/new.js",
      "@@ -0,0 +1,2 @@",
      "+export const x = 1;",
      "+export const y = 2;",
      "--- a/README.md",
      "+++ /dev/null",
      "@@ -1 +0,0 @@",
      "-# demo",
      "",
    ].join("\n");
    const { tree: next, changed } = applyChange(tree, change({ diff }));
    expect(next.get("src/math.js")).toBe("export function add(a, b) {\n  // adds\n  return a + b;\n}\n\nexport function sub(a, b) {\n  return a - b - 0;\n}\n");
    expect(next.get("src/new.js")).toBe("export const x = 1;\nexport const y = 2;\n");
    expect(next.has("README.md")).toBe(false);
    expect(changed).toEqual(["README.md", "src/math.js", "src/new.js"]);
    expect(tree.get("README.md")).toBe("# demo\n");
  });

  it("keeps a missing final newline as the diff says", () => {
    const diff = "--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-# demo\n+# Demo\n\\ No newline at end of file\n";
    expect(applyChange(tree, change({ diff })).tree.get("README.md")).toBe("# Demo");
  });

  it("refuses a hunk that does not match, naming the file, the hunk and the line", () => {
    const diff = "--- a/src/math.js\n+++ b/src/math.js\n@@ -2,1 +2,1 @@\n-  return a * b;\n+  return a + b + 0;\n";
    const f = failure(change({ diff }));
    expect(f).toMatchObject({ status: 422, code: "patch_failed" });
    expect(f.message).toBe(
      'src/math.js: hunk 1 (@@ -2 +2 @@) does not apply: expected line 2 to be "  return a * b;" but it is "  return a + b;", and its lines match nowhere else in the file',
    );
  });

  it("refuses paths that escape the tree, in files and in diffs", () => {
    expect(failure(change({ files: [{ path: "../etc/passwd", content: "x" }] }))).toMatchObject({ status: 400, code: "unsafe_path" });
    expect(failure(change({ diff: "--- a/../../x\n+++ b/../../x\n@@ -1 +1 @@\n-a\n+b\n" }))).toMatchObject({ status: 400, code: "unsafe_path" });
  });

  it("refuses diffs that are not diffs, and changes to files that do not exist", () => {
    expect(failure(change({ diff: "just some text" })).code).toBe("invalid_diff");
    expect(failure(change({ diff: "--- a/nope.js\n+++ b/nope.js\n@@ -1 +1 @@\n-a\n+b\n" })).message).toContain(
      "nope.js: the diff changes a file that does not exist",
    );
    expect(failure(change({ deletions: ["nope.js"] })).code).toBe("patch_failed");
  });

  it("writes whole files", () => {
    expect(applyChange(tree, change({ files: [{ path: "./src/math.js", content: "export {};\n" }] })).tree.get("src/math.js")).toBe("export {};\n");
  });
});
