/**
 * Parses unified diffs as git and `diff -u` print them, with the maintained `diff` package: git's extended
 * headers (renames, copies, modes, new and deleted files without hunks, C-quoted paths), CRLF in the diff
 * or in the file. A hunk applies where its context and removed lines match exactly, at its stated line or
 * the nearest line where they do (no fuzz: a line that differs is never guessed at). Every path goes
 * through `safePath`.
 */
import { applyPatch, parsePatch, type StructuredPatch, type StructuredPatchHunk } from "diff";
import { safePath } from "../archive";
import { AppError } from "../errors";

export type Hunk = StructuredPatchHunk;
export type FilePatch = {
  /** null for a created file. */
  oldPath: string | null;
  /** null for a deleted file. */
  newPath: string | null;
  /** A rename moves the old file; a copy keeps it. */
  kind: "modify" | "create" | "delete" | "rename" | "copy";
  /** The new file's git mode (`100644`, `100755`), when the diff states one. */
  newMode: string | null;
  hunks: Hunk[];
};

const DEV_NULL = "/dev/null";
// git format-patch ends a mail with a signature, "-- " and the git version, which would read as one more removed line.
const MAIL_SIGNATURE = /\r?\n-- \r?\n[^ +\-\\\r\n][^\r\n]*(\r?\n)*$/;

/** A path from a file header: git's `a/` / `b/` prefix removed, a CR left by a CRLF diff dropped. */
function pathOf(raw: string | undefined, prefix: "a/" | "b/"): string | null {
  const p = (raw ?? "").replace(/\r$/, "");
  if (p === DEV_NULL || p === "") return null;
  return safePath(p.startsWith(prefix) ? p.slice(prefix.length) : p);
}

function kindOf(p: StructuredPatch, oldPath: string | null, newPath: string | null): FilePatch["kind"] {
  if (p.isCreate || oldPath === null) return "create";
  if (p.isDelete || newPath === null) return "delete";
  if (p.isRename) return "rename";
  if (p.isCopy) return "copy";
  return "modify";
}

export function parseUnifiedDiff(diff: string): FilePatch[] {
  let parsed: StructuredPatch[];
  try {
    parsed = parsePatch(diff.replace(MAIL_SIGNATURE, "\n"));
  } catch (e) {
    throw new AppError(422, "invalid_diff", `the diff cannot be parsed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const patches = parsed.filter((p) => p.oldFileName !== undefined || p.newFileName !== undefined || p.hunks.length > 0);
  if (patches.length === 0 || patches.some((p) => p.oldFileName === undefined && p.newFileName === undefined))
    throw new AppError(422, "invalid_diff", "the diff has no file headers (--- a/path, +++ b/path, or git's diff --git)");
  return patches.map((p) => {
    const oldPath = p.isCreate ? null : pathOf(p.oldFileName, "a/");
    const newPath = p.isDelete ? null : pathOf(p.newFileName, "b/");
    const name = newPath ?? oldPath ?? "";
    if (p.isBinary) throw new AppError(422, "patch_failed", `${name}: the diff changes a binary file, which a text diff cannot carry`);
    if (oldPath === null && newPath === null) throw new AppError(422, "invalid_diff", "a file in the diff names neither an old nor a new path");
    return { oldPath, newPath, kind: kindOf(p, oldPath, newPath), newMode: p.newMode?.replace(/\r$/, "") ?? null, hunks: p.hunks };
  });
}

/** A hunk's header as git prints it (a count of 1 is left out). */
export function hunkHeader(h: Hunk): string {
  const range = (start: number, lines: number): string => (lines === 1 ? `${start}` : `${start},${lines}`);
  return `@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`;
}

/** One file's hunks applied to its text; a hunk whose lines match nowhere is a 422 naming it. */
export function applyFilePatch(path: string, original: string, patch: FilePatch): string {
  if (patch.hunks.length === 0) return original;
  const structured: StructuredPatch = { oldFileName: path, newFileName: path, oldHeader: undefined, newHeader: undefined, hunks: patch.hunks };
  const result = applyPatch(original, structured, { fuzzFactor: 0 });
  if (result !== false) return result;
  throw firstFailingHunk(path, original, patch.hunks);
}

/** Why the patch did not apply: the first hunk that fits nowhere after the ones before it, and how it differs at its stated line. */
function firstFailingHunk(path: string, original: string, hunks: Hunk[]): AppError {
  let text = original;
  let shift = 0;
  for (const [n, hunk] of hunks.entries()) {
    const moved = { ...hunk, oldStart: hunk.oldStart + shift, newStart: hunk.newStart + shift };
    const next = applyPatch(text, { oldFileName: path, newFileName: path, oldHeader: undefined, newHeader: undefined, hunks: [moved] }, { fuzzFactor: 0 });
    if (next === false) return new AppError(422, "patch_failed", `${path}: hunk ${n + 1} (${hunkHeader(hunk)}) does not apply: ${mismatch(text, moved)}`);
    text = next;
    shift += hunk.newLines - hunk.oldLines;
  }
  return new AppError(422, "patch_failed", `${path}: the hunks do not apply in order`);
}

/** The first context or removed line that differs at the hunk's stated position. */
function mismatch(text: string, hunk: Hunk): string {
  const lines = text.split(/\r?\n/);
  let at = hunk.oldLines === 0 ? hunk.oldStart : hunk.oldStart - 1;
  for (const l of hunk.lines) {
    if (l.startsWith("+") || l.startsWith("\\")) continue;
    const want = l.slice(1).replace(/\r$/, "");
    const have = at < lines.length - (text.endsWith("\n") ? 1 : 0) ? lines[at] : undefined;
    if (have !== want)
      return `expected line ${at + 1} to be ${JSON.stringify(want)} but it is ${have === undefined ? "past the end of the file" : JSON.stringify(have)}, and its lines match nowhere else in the file`;
    at++;
  }
  return "its lines match at its stated position only out of order with the hunks before it";
}
