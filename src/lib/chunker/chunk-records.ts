/**
 * Chunks a sequence of records (chat messages, log entries) at record boundaries: whole records are
 * packed up to the token limit and a record larger than a chunk is cut like a file. Offsets and line
 * numbers refer to the records joined as one document.
 */
import { countWith } from "../tokenizer";
import { type ChunkOptions, chunkText, type TextChunk, utf8Length } from "./chunk-text";

export type RecordChunk = TextChunk & { severity?: string };

const SEVERITY_RANK: Record<string, number> = { trace: 0, debug: 1, info: 2, notice: 3, warn: 4, error: 5, fatal: 6 };

/** The document the records make, and its chunks. Each record's text should end with a newline. */
export function chunkRecords(records: { text: string; severity?: string | undefined }[], opts: ChunkOptions): { text: string; chunks: RecordChunk[] } {
  const text = records.map((r) => r.text).join("");
  const out: RecordChunk[] = [];
  let char = 0;
  let line = 1;
  let byte = 0;
  let group: { start: number; startLine: number; startByte: number; severity?: string | undefined; tokens: number } | undefined;

  const close = (end: number, endLine: number): void => {
    if (!group) return;
    const t = text.slice(group.start, end);
    out.push({
      text: t,
      startLine: group.startLine,
      endLine: Math.max(group.startLine, endLine),
      byteOffset: group.startByte,
      byteLength: utf8Length(text, group.start, end),
      charStart: group.start,
      charEnd: end,
      tokenCount: countWith(opts.tokenizer, t),
      ...(group.severity ? { severity: group.severity } : {}),
    });
    group = undefined;
  };

  for (const r of records) {
    const tokens = countWith(opts.tokenizer, r.text);
    const lines = countNewlines(r.text);
    const endLine = line + lines - (r.text.endsWith("\n") ? 1 : 0);
    if (tokens > opts.maxTokens) {
      close(char, line - 1);
      for (const c of chunkText(r.text, { ...opts, overlapTokens: 0 })) {
        out.push({
          ...c,
          startLine: c.startLine + line - 1,
          endLine: c.endLine + line - 1,
          byteOffset: c.byteOffset + byte,
          charStart: c.charStart + char,
          charEnd: c.charEnd + char,
          ...(r.severity ? { severity: r.severity } : {}),
        });
      }
    } else {
      if (group && group.tokens + tokens > opts.maxTokens) close(char, line - 1);
      if (!group) group = { start: char, startLine: line, startByte: byte, tokens: 0 };
      group.tokens += tokens;
      group.severity = worse(group.severity, r.severity);
    }
    char += r.text.length;
    byte += utf8Length(r.text, 0, r.text.length);
    line = endLine + 1;
  }
  close(char, line - 1);
  // Joining records can merge pre-tokens at seams; an over-full group is split again exactly.
  return { text, chunks: out.flatMap((c) => (c.tokenCount <= opts.maxTokens ? [c] : resplit(c, opts))) };
}

function resplit(c: RecordChunk, opts: ChunkOptions): RecordChunk[] {
  const lineBase = c.startLine - 1;
  return chunkText(c.text, { ...opts, overlapTokens: 0 }).map((p) => ({
    ...p,
    startLine: p.startLine + lineBase,
    endLine: p.endLine + lineBase,
    byteOffset: p.byteOffset + c.byteOffset,
    charStart: p.charStart + c.charStart,
    charEnd: p.charEnd + c.charStart,
    ...(c.severity ? { severity: c.severity } : {}),
  }));
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\n"); i !== -1; i = s.indexOf("\n", i + 1)) n++;
  return n;
}

function worse(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return (SEVERITY_RANK[b] ?? 0) > (SEVERITY_RANK[a] ?? 0) ? b : a;
}
