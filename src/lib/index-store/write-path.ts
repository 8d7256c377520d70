/** The shard's write path: a batch of files replaces those paths' rows, removed paths are dropped. */
import type { Embedder } from "../retrieval/embedder";
import { pathTerms, termsOf } from "../retrieval/terms";
import type { VectorIndex } from "../retrieval/vector-index";
import { countWith } from "../tokenizer";
import { modelSearchTerms } from "./model-summaries";
import { writeMeta } from "./schema";
import { chunkCountsAtIngest } from "./token-counts";
import type { IndexedFile, IndexInput } from "./types";

/** Deletes a file's chunks, terms, symbols and summary row; returns its chunk ids (their vectors go too). */
export function dropFile(sql: SqlStorage, path: string): string[] {
  const ids = sql.exec<{ rid: number; chunk_id: string }>("SELECT rid, chunk_id FROM chunks WHERE path = ?", path).toArray();
  for (const r of ids) sql.exec("DELETE FROM chunks_fts WHERE rowid = ?", r.rid);
  sql.exec("DELETE FROM chunks WHERE path = ?", path);
  sql.exec("DELETE FROM symbols WHERE path = ?", path);
  sql.exec("DELETE FROM files WHERE path = ?", path);
  sql.exec("DELETE FROM summaries_fts WHERE level = 'file' AND path = ?", path);
  return ids.map((r) => r.chunk_id);
}

export type ToEmbed = { id: string; path: string; text: string };

/** Inserts one file's rows (the caller has dropped the path first); returns what to embed for its chunks. */
export function insertFile(sql: SqlStorage, f: IndexedFile, changedAt: number): ToEmbed[] {
  const toEmbed: ToEmbed[] = [];
  let tokens = 0;
  for (const c of f.chunks) {
    const counts = chunkCountsAtIngest({ id: c.chunkId, kind: "chunk", path: f.path, startLine: c.startLine, endLine: c.endLine, text: c.text });
    tokens += counts.tokens;
    const rid = sql
      .exec<{ rid: number }>(
        "INSERT INTO chunks (chunk_id, path, ordinal, start_line, end_line, tokens_cl, block_cl, segs_cl, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING rid",
        c.chunkId,
        f.path,
        c.ordinal,
        c.startLine,
        c.endLine,
        counts.tokens,
        counts.block,
        counts.segments.buffer,
        c.text,
      )
      .one().rid;
    sql.exec("INSERT INTO chunks_fts (rowid, body, path) VALUES (?, ?, ?)", rid, termsOf(c.text).join(" "), pathTerms(f.path).join(" "));
    toEmbed.push({ id: c.chunkId, path: f.path, text: `${f.path}\n${c.text}` });
  }
  for (const s of f.symbols)
    sql.exec("INSERT INTO symbols (path, name, kind, line, signature) VALUES (?, ?, ?, ?, ?)", f.path, s.name, s.kind, s.line, s.signature);
  // A file whose content the model summarised before (this path or another) is searchable by that summary too.
  sql.exec(
    "INSERT INTO summaries_fts (level, path, body, path_terms, model_body) VALUES ('file', ?, ?, ?, ?)",
    f.path,
    termsOf(f.summary).join(" "),
    pathTerms(f.path).join(" "),
    modelSearchTerms(sql, f.sha256),
  );
  sql.exec(
    "INSERT INTO files (path, sha256, type, tokens_cl, changed_at, summary_id, summary, summary_cl, head) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    f.path,
    f.sha256,
    f.type,
    tokens,
    changedAt,
    f.summaryId,
    f.summary,
    countWith("cl100k_base", f.summary),
    f.head,
  );
  return toEmbed;
}

/**
 * Replaces the given files' chunks, terms, symbols and vectors, and drops removed paths. Idempotent.
 * Marks the derived data (directory and project summaries, the file graph) stale.
 */
export async function indexBatch(
  sql: SqlStorage,
  input: IndexInput,
  deps: { vectors: () => VectorIndex; embedder: Embedder },
): Promise<{ files: number; chunks: number; removed: number }> {
  writeMeta(sql, "project_id", input.projectId);
  writeMeta(sql, "project_name", input.projectName);
  const vectorIds: string[] = [];
  for (const path of [...input.files.map((f) => f.path), ...input.removed]) vectorIds.push(...dropFile(sql, path));
  await deps.vectors().remove(vectorIds);
  const toEmbed: ToEmbed[] = [];
  for (const f of input.files) toEmbed.push(...insertFile(sql, f, input.changedAt));
  const vectors = await deps.embedder.embed(toEmbed.map((e) => e.text));
  await deps.vectors().upsert(toEmbed.map((e, i) => ({ id: e.id, path: e.path, vector: vectors[i] as Float32Array })));
  writeMeta(sql, "derived_dirty", "1");
  return { files: input.files.length, chunks: toEmbed.length, removed: input.removed.length };
}
