/**
 * What a fix changed, as the eval scores it: per modified file, each hunk's pre-fix lines (removed lines, or
 * for a pure insertion the line it follows); files the fix creates are left out.
 */
import { describe, expect, it } from "vitest";
import { goldHunksOf } from "../../scripts/eval/gold";

// `git diff` of a fix that changes a line of a.py, inserts one further down, drops b.py's last line and adds c.py.
const PATCH = `diff --git a/a.py b/a.py
index fe7fa38..3b476da 100644
--- a/a.py
+++ b/a.py
@@ -1,5 +1,5 @@
 a1
-a2
+a2 changed
 a3
 a4
 a5
@@ -10,6 +10,7 @@ a9
 a10
 a11
 a12
+new line
 a13
 a14
 a15
diff --git a/b.py b/b.py
index b77b4eb..587be6b 100644
--- a/b.py
+++ b/b.py
@@ -1,2 +1 @@
 x
-y
diff --git a/c.py b/c.py
new file mode 100644
index 0000000..8ba3a16
--- /dev/null
+++ b/c.py
@@ -0,0 +1 @@
+n
`;

describe("goldHunksOf", () => {
  it("gives each modified file's hunks apart, each as the pre-fix lines it changes", () => {
    expect([...goldHunksOf(PATCH)]).toEqual([
      ["a.py", [[2], [12]]],
      ["b.py", [[2]]],
    ]);
  });

  it("leaves out a hunk that only repeats context, and a file left with no hunk", () => {
    const contextOnly = "diff --git a/d.py b/d.py\n--- a/d.py\n+++ b/d.py\n@@ -1,2 +1,2 @@\n d1\n d2\n";
    expect([...goldHunksOf(contextOnly + PATCH)].map(([path]) => path)).toEqual(["a.py", "b.py"]);
  });
});
