/**
 * A file's lines rebuilt from the shard's chunks. Chunks start and end on line boundaries and overlap
 * the previous chunk by whole lines, except a line longer than a chunk, which is cut into consecutive
 * chunks that all name that one line (src/lib/chunker/chunk-text.ts).
 */
import { notFound } from "../errors";

export type FileLines = { path: string; startLine: number; endLine: number; totalLines: number; lines: string[] };

type Row = { start_line: number; end_line: number; text: string };

/**
 * Lines `startLine`..`endLine` (1-based, inclusive, clamped to the file) of `path`, at most `maxChars`
 * characters of them (at least one line): `endLine` says where the answer stops.
 */
export function readFileLines(sql: SqlStorage, path: string, startLine: number, endLine: number, maxChars: number): FileLines {
  const last = sql.exec<{ n: number | null }>("SELECT max(end_line) AS n FROM chunks WHERE path = ?", path).one().n;
  if (last === null) throw notFound("file");
  const from = Math.min(startLine, last);
  const to = Math.min(endLine, last);
  const rows = sql
    .exec<Row>("SELECT start_line, end_line, text FROM chunks WHERE path = ? AND end_line >= ? AND start_line <= ? ORDER BY ordinal", path, from, to)
    .toArray();
  const byLine = linesOf(rows);
  const lines: string[] = [];
  let chars = 0;
  for (let n = from; n <= to; n++) {
    const line = byLine.get(n) ?? "";
    if (lines.length > 0 && chars + line.length > maxChars) break;
    lines.push(line);
    chars += line.length + 1;
  }
  return { path, startLine: from, endLine: from + lines.length - 1, totalLines: last, lines };
}

/** Line number → text (without its newline), the first chunk holding a line giving it. */
export function linesOf(rows: Row[]): Map<number, string> {
  const out = new Map<number, string>();
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as Row;
    let text = r.text;
    // The pieces of one long line are consecutive single-line chunks naming the same line.
    while (r.start_line === r.end_line && rows[i + 1]?.start_line === r.start_line && rows[i + 1]?.end_line === r.end_line) {
      text += (rows[++i] as Row).text;
    }
    const parts = text.split("\n");
    for (let k = 0; k <= r.end_line - r.start_line; k++) if (!out.has(r.start_line + k)) out.set(r.start_line + k, parts[k] ?? "");
  }
  return out;
}
