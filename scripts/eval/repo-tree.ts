/** A repository's tree at a commit, read with git: as the CLI would upload it, and as the server indexes it. */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { DEFAULT_ARCHIVE_LIMITS, type TarFile, writeTar } from "../../src/lib/archive";
import { buildIgnoreRules, decodeFile } from "../../src/lib/chunker";
import { DEFAULT_MODEL } from "../../src/lib/model/anthropic-adapter";
import { countTokens } from "../../src/lib/tokenizer";

export type TreeFile = { path: string; text: string };

export function git(dir: string, args: string[], input?: string): Buffer {
  return execFileSync("git", ["--git-dir", dir, ...args], { maxBuffer: 1 << 30, ...(input !== undefined ? { input } : {}) });
}

/** The git directory of a work tree or a bare repository. */
export function gitDirOf(path: string): string {
  const p = resolve(path);
  return existsSync(join(p, ".git")) ? join(p, ".git") : p;
}

/** Whether the repository holds a commit. */
export function hasCommit(dir: string, sha: string): boolean {
  try {
    git(dir, ["cat-file", "-e", `${sha}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

/**
 * A commit's tree as the CLI would upload it (regular files only: symbolic links and submodules are
 * left out, as `winky ingest` does; packed when asked for), and its indexable text files as the
 * server sees them.
 */
export function treeAt(dir: string, rev: string): { archive: () => Buffer; files: TreeFile[] } {
  const entries = git(dir, ["ls-tree", "-r", "-z", rev])
    .toString("utf8")
    .split("\0")
    .filter(Boolean)
    .map((l) => {
      const [info, path] = l.split("\t");
      const [mode, type, oid] = (info ?? "").split(" ");
      return { mode, type, oid: oid ?? "", path: path ?? "" };
    })
    .filter((e) => e.type === "blob" && (e.mode === "100644" || e.mode === "100755"));
  const batch = git(dir, ["cat-file", "--batch"], `${entries.map((e) => e.oid).join("\n")}\n`);
  const blobs: TarFile[] = [];
  let at = 0;
  for (const e of entries) {
    const nl = batch.indexOf(10, at);
    const size = Number(batch.subarray(at, nl).toString("utf8").split(" ")[2]);
    blobs.push({ path: e.path, bytes: new Uint8Array(batch.subarray(nl + 1, nl + 1 + size)) });
    at = nl + 1 + size + 1;
  }
  const gitignores: { dir: string; text: string }[] = [];
  const raw: TreeFile[] = [];
  for (const b of blobs) {
    if (b.bytes.byteLength > DEFAULT_ARCHIVE_LIMITS.maxFileBytes) continue;
    const d = decodeFile(b.path, b.bytes);
    if (d.kind !== "text") continue;
    if (b.path === ".gitignore" || b.path.endsWith("/.gitignore"))
      gitignores.push({ dir: b.path.slice(0, Math.max(0, b.path.lastIndexOf("/"))), text: d.text });
    raw.push({ path: b.path, text: d.text });
  }
  const rules = buildIgnoreRules(gitignores);
  // Non-UTF-8 files would make the server refuse the upload; they are not indexable anyway.
  const uploadable = blobs.filter((b) => decodeFile(b.path, b.bytes).kind !== "invalid-utf8");
  return { archive: () => gzipSync(writeTar(uploadable)), files: raw.filter((f) => !rules.isIgnored(f.path)) };
}

const tokenCache = new Map<string, number>();

/** A file's tokens in the default model's count, cached by path and content. */
export function fileTokens(f: TreeFile): number {
  const key = `${f.path}\0${f.text.length}\0${f.text.slice(0, 64)}`;
  let n = tokenCache.get(key);
  if (n === undefined) {
    n = countTokens(f.text, DEFAULT_MODEL);
    tokenCache.set(key, n);
  }
  return n;
}
