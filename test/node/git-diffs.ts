/**
 * Diffs as `git` really prints them, made in Node before the workers pool starts: each case commits a
 * tree in a fresh repository, changes it with ordinary file operations, and records `git diff` of the
 * change (renames and copies detected) with the tree git ends up with, for the tests in workerd to apply.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";

export type GitDiffCase = { name: string; before: Record<string, string>; diff: string; after: Record<string, string> };

const numbered = (n: number, from = 1): string => Array.from({ length: n }, (_, i) => `line ${i + from}`).join("\n");
const LONG = `${numbered(40)}\n`;

/** `emailed`: the change is committed and taken from `git format-patch` (mail headers, a trailing signature). */
type Case = { name: string; before: Record<string, string>; change: (root: string) => void; diffArgs?: string[]; emailed?: boolean };

const CASES: Case[] = [
  {
    name: "several hunks in one file",
    before: { "src/long.txt": LONG },
    change: (root) => writeFileSync(join(root, "src/long.txt"), LONG.replace("line 3\n", "line three\n").replace("line 30\n", "line 30\nadded after 30\n")),
  },
  { name: "a rename without a change", before: { "old/name.py": "x = 1\ny = 2\n" }, change: (root) => move(root, "old/name.py", "new/name.py") },
  {
    name: "a rename with a change",
    before: { "calc.py": `${numbered(12)}\n` },
    change: (root) => {
      move(root, "calc.py", "lib/calc.py");
      writeFileSync(join(root, "lib/calc.py"), `${numbered(12)}\n`.replace("line 6", "line six"));
    },
  },
  {
    name: "a copy",
    before: { "base.txt": `${numbered(10)}\n` },
    change: (root) => copyFileSync(join(root, "base.txt"), join(root, "copy.txt")),
    diffArgs: ["--find-copies-harder"],
  },
  { name: "a mode change only", before: { "run.sh": "#!/bin/sh\necho ok\n" }, change: (root) => chmodSync(join(root, "run.sh"), 0o755) },
  { name: "a new empty file", before: { "a.txt": "a\n" }, change: (root) => writeFileSync(join(root, "empty.txt"), "") },
  {
    name: "deleted files, one empty",
    before: { "keep.txt": "k\n", "gone.txt": "g\nh\n", "gone-empty.txt": "" },
    change: (root) => {
      rmSync(join(root, "gone.txt"));
      rmSync(join(root, "gone-empty.txt"));
    },
  },
  {
    name: "quoted paths: a space, a quote, non-ASCII",
    before: { "docs/read me.txt": "one\n", 'say "hi".txt': "hi\n", "café/crème.txt": "brûlée\n" },
    change: (root) => {
      writeFileSync(join(root, "docs/read me.txt"), "one\ntwo\n");
      writeFileSync(join(root, 'say "hi".txt'), "hello\n");
      writeFileSync(join(root, "café/crème.txt"), "brûlée\ntarte\n");
      writeFileSync(join(root, "nouveau fichier é.txt"), "neu\n");
    },
  },
  { name: "a file with CRLF line ends", before: { "win.txt": "a\r\nb\r\nc\r\n" }, change: (root) => writeFileSync(join(root, "win.txt"), "a\r\nB\r\nc\r\n") },
  {
    name: "no newline at the end of the file",
    before: { "end.txt": "a\nb" },
    change: (root) => writeFileSync(join(root, "end.txt"), "a\nc"),
  },
  {
    name: "a commit from git format-patch",
    before: { "src/app.js": "export const a = 1;\nexport const b = 2;\n" },
    change: (root) => {
      writeFileSync(join(root, "src/app.js"), "export const a = 1;\nexport const b = 3;\n");
      move(root, "src/app.js", "src/main.js");
    },
    emailed: true,
  },
];

function move(root: string, from: string, to: string): void {
  mkdirSync(dirname(join(root, to)), { recursive: true });
  renameSync(join(root, from), join(root, to));
}

function put(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

function read(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === ".git") continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(root, p)] = readFileSync(p, "utf8");
    }
  };
  walk(root);
  return out;
}

export function buildGitDiffs(): GitDiffCase[] {
  const dir = mkdtempSync(join(tmpdir(), "winky-git-diffs-"));
  try {
    return CASES.map((c, i) => {
      const root = join(dir, String(i));
      mkdirSync(root);
      const git = (...args: string[]): string =>
        execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "core.autocrlf=false", ...args], { cwd: root, encoding: "utf8" });
      git("init", "-q");
      put(root, c.before);
      git("add", "-A");
      git("commit", "-qm", "before");
      c.change(root);
      git("add", "-A");
      if (c.emailed) git("commit", "-qm", "the change");
      const diff = c.emailed ? git("format-patch", "-1", "--stdout", "-M") : git("diff", "--cached", "-M", "-C", ...(c.diffArgs ?? []));
      return { name: c.name, before: c.before, diff, after: read(root) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
