/** Emptying a shard in bounded steps: Vectorize has no namespace delete, so vectors go by chunk id. */
import type { VectorIndex } from "../retrieval/vector-index";

// Vectors removed from Vectorize per purge call: one deleteByIds call (it takes up to 1,000 ids, like upsert).
export const PURGE_VECTORS = 1000;

/**
 * Removes the vectors of the first PURGE_VECTORS chunks and those chunks' rows, so the next call
 * resumes after them; returns how many it removed (0 once no chunk is left).
 */
export async function purgeVectorBatch(sql: SqlStorage, vectors: VectorIndex): Promise<number> {
  const rows = sql.exec<{ rid: number; chunk_id: string }>("SELECT rid, chunk_id FROM chunks ORDER BY rid LIMIT ?", PURGE_VECTORS).toArray();
  if (rows.length === 0) return 0;
  await vectors.remove(rows.map((r) => r.chunk_id));
  const last = rows[rows.length - 1]?.rid ?? 0;
  sql.exec("DELETE FROM chunks_fts WHERE rowid <= ?", last);
  sql.exec("DELETE FROM chunks WHERE rid <= ?", last);
  return rows.length;
}
