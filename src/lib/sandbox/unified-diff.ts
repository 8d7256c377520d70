/** Parses unified diffs (git or plain `diff -u`) and applies them strictly: no fuzz, no guessing. */
import { safePath } from "../archive";
import { AppError } from "../errors";

export type Hunk = { header: string; oldStart: number; oldLines: number; newStart: number; newLines: number; lines: string[] };
export type FilePatch = { oldPath: string | null; newPath: string | null; hunks: Hunk[] };

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

function pathOf(raw: string): string | null {
  const p = raw.split("\t")[0]?.trim() ?? "";
  if (p === "/dev/null") return null;
  return safePath(p.replace(/^[ab]\//, ""));
}

export function parseUnifiedDiff(diff: string): FilePatch[] {
  const lines = diff.replace(/\r\n/g, "\n").split("\n");
  const patches: FilePatch[] = [];
  let current: FilePatch | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith("--- ") && lines[i + 1]?.startsWith("+++ ")) {
      current = { oldPath: pathOf(line.slice(4)), newPath: pathOf((lines[i + 1] as string).slice(4)), hunks: [] };
      patches.push(current);
      i++;
      continue;
    }
    const m = HUNK.exec(line);
    if (m) {
      if (!current) throw new AppError(422, "invalid_diff", `hunk "${line}" comes before any file header (--- / +++)`);
      const hunk: Hunk = {
        header: line,
        oldStart: Number(m[1]),
        oldLines: m[2] === undefined ? 1 : Number(m[2]),
        newStart: Number(m[3]),
        newLines: m[4] === undefined ? 1 : Number(m[4]),
        lines: [],
      };
      let old = 0;
      let neu = 0;
      while (old < hunk.oldLines || neu < hunk.newLines) {
        const l = lines[++i];
        if (l === undefined) throw new AppError(422, "invalid_diff", `${current.newPath ?? current.oldPath}: hunk ${hunk.header} ends early`);
        if (l.startsWith("\\")) continue;
        const tag = l[0] ?? " ";
        if (tag !== " " && tag !== "-" && tag !== "+" && l !== "")
          throw new AppError(
            422,
            "invalid_diff",
            `${current.newPath ?? current.oldPath}: hunk ${hunk.header} has a line that is not context, removal or addition: ${JSON.stringify(l)}`,
          );
        const body = l === "" ? " " : l;
        hunk.lines.push(body);
        if (body[0] !== "+") old++;
        if (body[0] !== "-") neu++;
      }
      // A "\ No newline at end of file" marker may follow the last line.
      if (lines[i + 1]?.startsWith("\\")) {
        hunk.lines.push(lines[i + 1] as string);
        i++;
      }
      current.hunks.push(hunk);
    }
  }
  if (patches.length === 0) throw new AppError(422, "invalid_diff", "the diff has no file headers (--- a/path, +++ b/path)");
  return patches;
}

/** Applies one file's hunks to its text; every context and removed line must match exactly. */
export function applyFilePatch(path: string, original: string, patch: FilePatch): string {
  const hadNewline = original === "" || original.endsWith("\n");
  const src = original === "" ? [] : original.replace(/\n$/, "").split("\n");
  const out: string[] = [];
  let at = 0; // index into src
  let newlineAtEnd = hadNewline;
  for (const [n, hunk] of patch.hunks.entries()) {
    const start = hunk.oldLines === 0 ? hunk.oldStart : hunk.oldStart - 1;
    if (start < at || start > src.length)
      throw hunkError(path, n, hunk, `starts at line ${hunk.oldStart}, which the file (${src.length} lines) cannot place after the previous hunk`);
    out.push(...src.slice(at, start));
    at = start;
    let prev = "";
    for (const l of hunk.lines) {
      if (l.startsWith("\\")) {
        if (prev === "+") newlineAtEnd = false;
        continue;
      }
      const tag = l[0];
      const text = l.slice(1);
      if (tag === "+") out.push(text);
      else {
        if (src[at] !== text)
          throw hunkError(
            path,
            n,
            hunk,
            `expected line ${at + 1} to be ${JSON.stringify(text)} but it is ${src[at] === undefined ? "past the end of the file" : JSON.stringify(src[at])}`,
          );
        if (tag === " ") out.push(text);
        at++;
      }
      prev = tag ?? "";
    }
  }
  out.push(...src.slice(at));
  if (out.length === 0) return "";
  return `${out.join("\n")}${newlineAtEnd ? "\n" : ""}`;
}

function hunkError(path: string, index: number, hunk: Hunk, detail: string): AppError {
  return new AppError(422, "patch_failed", `${path}: hunk ${index + 1} (${hunk.header}) does not apply: ${detail}`);
}
