/**
 * Token counts the shard caches so a large prompt is counted by addition: each chunk's text in the
 * model's tokenizer and its rendered block in the base encoding (columns of `chunks`), and each
 * summary's rendered block (`block_counts`).
 */
import { blockBase, chunkLines, lineSegments } from "../assembly/pieces";
import { type RenderPiece, renderPiece } from "../assembly/prompt";
import { baseEncoding, countWith, getEncoding, scaleToClaude, type Tokenizer } from "../tokenizer";
import type { ChunkRow } from "./types";

/**
 * A new chunk's cl100k counts, written with its row: its text, its rendered block, and its line segments
 * (pieces.ts `lineSegments`), so the first assembly that meets the chunk counts its excerpts by addition
 * instead of encoding it. The segments add up to the text when it ends in a newline, so it is encoded once.
 */
export function chunkCountsAtIngest(piece: RenderPiece): { tokens: number; block: number; segments: Int32Array } {
  const enc = getEncoding("cl100k_base");
  const counter = { base: (s: string) => enc.count(s) };
  const segments = lineSegments(chunkLines(piece.text), counter);
  let tokens = 0;
  if (piece.text.endsWith("\n")) for (const n of segments) tokens += n > 0 ? n : 0;
  else tokens = counter.base(piece.text);
  return { tokens, block: blockBase(piece, counter, tokens), segments };
}

/** Tokens of a chunk's text in the model's tokenizer, and of its rendered block in the base encoding; cached. */
export function chunkCounts(sql: SqlStorage, row: ChunkRow, tokenizer: Tokenizer): { tokens: number; block: number } {
  const o2 = tokenizer === "o200k_base";
  let text = o2 ? row.tokens_o2 : row.tokens_cl;
  if (text === null) {
    text = countWith("o200k_base", row.text);
    sql.exec("UPDATE chunks SET tokens_o2 = ? WHERE rid = ?", text, row.rid);
  }
  let block = o2 ? row.block_o2 : row.block_cl;
  if (block === null) {
    const rendered = renderPiece({ id: row.chunk_id, kind: "chunk", path: row.path, startLine: row.start_line, endLine: row.end_line, text: row.text });
    block = countWith(o2 ? "o200k_base" : "cl100k_base", rendered);
    sql.exec(`UPDATE chunks SET ${o2 ? "block_o2" : "block_cl"} = ? WHERE rid = ?`, block, row.rid);
  }
  return { tokens: tokenizer === "claude" ? scaleToClaude(text) : text, block };
}

/** FNV-1a over UTF-16 code units: a cheap fingerprint so a cached count never serves another text of the same length. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

/**
 * Base-encoding tokens of a summary's rendered block, cached by encoding, id, text length and a
 * fingerprint of the text (a summary's id stays while its text changes: a new extractive or model summary).
 */
export function summaryBlock(sql: SqlStorage, piece: RenderPiece, tokenizer: Tokenizer): number {
  const encoding = baseEncoding(tokenizer);
  const key = `${encoding}:${piece.id}:${piece.text.length}:${fnv1a(piece.text)}`;
  const hit = sql.exec<{ n: number }>("SELECT n FROM block_counts WHERE key = ?", key).toArray()[0];
  if (hit) return hit.n;
  const n = countWith(encoding, renderPiece(piece));
  sql.exec("INSERT OR REPLACE INTO block_counts (key, n) VALUES (?, ?)", key, n);
  return n;
}
