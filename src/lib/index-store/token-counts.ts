/**
 * Token counts the shard caches so a large prompt is counted by addition: each chunk's text in the
 * model's tokenizer and its rendered block in the base encoding (columns of `chunks`), and each
 * summary's rendered block (`block_counts`).
 */
import { type RenderPiece, renderPiece } from "../assembly/prompt";
import { baseEncoding, countWith, scaleToClaude, type Tokenizer } from "../tokenizer";
import type { ChunkRow } from "./types";

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

/** Base-encoding tokens of a summary's rendered block, cached by encoding, id and text length. */
export function summaryBlock(sql: SqlStorage, piece: RenderPiece, tokenizer: Tokenizer): number {
  const encoding = baseEncoding(tokenizer);
  const key = `${encoding}:${piece.id}:${piece.text.length}`;
  const hit = sql.exec<{ n: number }>("SELECT n FROM block_counts WHERE key = ?", key).toArray()[0];
  if (hit) return hit.n;
  const n = countWith(encoding, renderPiece(piece));
  sql.exec("INSERT OR REPLACE INTO block_counts (key, n) VALUES (?, ?)", key, n);
  return n;
}
