/**
 * A generation's change as one patch for `git apply --3way`: its unified diff as it is, and each whole
 * file it rewrote as the diff from the working tree's copy (or a new file), made by `git diff --no-index`.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GeneratedDiff } from "../src/client";

/** The patch turning `path` (in `cwd`) into `content`, with a/ b/ headers naming `path`. */
async function fileDiff(cwd: string, path: string, content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "winky-diff-"));
  try {
    const next = join(dir, "next");
    await writeFile(next, content);
    const old = existsSync(join(cwd, path)) ? join(cwd, path) : "/dev/null";
    const r = spawnSync("git", ["diff", "--no-index", "--no-color", "--", old, next], { cwd, encoding: "utf8" });
    if (r.status !== 0 && r.status !== 1) throw new Error(`git diff failed: ${r.stderr}`);
    const body = r.stdout.slice(r.stdout.indexOf("\n@@") + 1);
    if (!r.stdout.includes("\n@@")) return "";
    const created = old === "/dev/null";
    return [
      `diff --git a/${path} b/${path}`,
      ...(created ? ["new file mode 100644"] : []),
      `--- ${created ? "/dev/null" : `a/${path}`}`,
      `+++ b/${path}`,
      body,
    ].join("\n");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function patchOf(diffs: GeneratedDiff[], cwd: string): Promise<string> {
  const parts: string[] = [];
  for (const d of diffs) parts.push("diff" in d ? d.diff : await fileDiff(cwd, d.path, d.content));
  return parts
    .filter((p) => p.trim())
    .map((p) => (p.endsWith("\n") ? p : `${p}\n`))
    .join("");
}

/** Applies `patch` to the working tree at `cwd` with a three-way merge where it does not apply cleanly. */
export function applyPatch(patch: string, cwd: string): { ok: boolean; output: string } {
  const r = spawnSync("git", ["apply", "--3way", "-"], { cwd, input: patch, encoding: "utf8" });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}
