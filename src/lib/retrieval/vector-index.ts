/**
 * Vectors behind one interface. Production: Vectorize, one namespace per project (a query never
 * leaves its project). Local: an exact cosine index held in the project's own Durable Object.
 */
import { dot } from "./embedder";

export type VectorHit = { id: string; score: number };

export interface VectorIndex {
  upsert(items: { id: string; vector: Float32Array; path: string }[]): Promise<void>;
  remove(ids: string[]): Promise<void>;
  query(vector: Float32Array, topK: number): Promise<VectorHit[]>;
}

/** Exact search over vectors kept in SQLite, cached in memory between writes. */
export class SqliteVectorIndex implements VectorIndex {
  private cache: { ids: string[]; vectors: Float32Array[] } | undefined;
  constructor(private readonly sql: SqlStorage) {
    sql.exec("CREATE TABLE IF NOT EXISTS vectors (id TEXT PRIMARY KEY, path TEXT NOT NULL, v BLOB NOT NULL)");
  }

  async upsert(items: { id: string; vector: Float32Array; path: string }[]): Promise<void> {
    for (const it of items) {
      this.sql.exec(
        "INSERT OR REPLACE INTO vectors (id, path, v) VALUES (?, ?, ?)",
        it.id,
        it.path,
        it.vector.buffer.slice(it.vector.byteOffset, it.vector.byteOffset + it.vector.byteLength),
      );
    }
    this.cache = undefined;
  }

  async remove(ids: string[]): Promise<void> {
    for (const id of ids) this.sql.exec("DELETE FROM vectors WHERE id = ?", id);
    this.cache = undefined;
  }

  async query(vector: Float32Array, topK: number): Promise<VectorHit[]> {
    if (!this.cache) {
      const ids: string[] = [];
      const vectors: Float32Array[] = [];
      for (const row of this.sql.exec<{ id: string; v: ArrayBuffer }>("SELECT id, v FROM vectors")) {
        ids.push(row.id);
        vectors.push(new Float32Array(row.v));
      }
      this.cache = { ids, vectors };
    }
    const { ids, vectors } = this.cache;
    const hits: VectorHit[] = ids.map((id, i) => ({ id, score: vectors[i]?.length === vector.length ? dot(vector, vectors[i] as Float32Array) : 0 }));
    hits.sort((a, b) => b.score - a.score);
    return hits.slice(0, topK);
  }
}

/** Vectorize, with the project as namespace. */
export class VectorizeVectorIndex implements VectorIndex {
  constructor(
    private readonly index: VectorizeIndex,
    private readonly namespace: string,
  ) {}

  async upsert(items: { id: string; vector: Float32Array; path: string }[]): Promise<void> {
    // Vectorize accepts up to 1,000 vectors per upsert call.
    for (let i = 0; i < items.length; i += 1000) {
      await this.index.upsert(
        items.slice(i, i + 1000).map((it) => ({ id: it.id, values: Array.from(it.vector), namespace: this.namespace, metadata: { path: it.path } })),
      );
    }
  }

  async remove(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 1000) await this.index.deleteByIds(ids.slice(i, i + 1000));
  }

  async query(vector: Float32Array, topK: number): Promise<VectorHit[]> {
    // Vectorize has no offset or cursor on a query, so a larger topK cannot be paged: ask for the most it
    // allows, which is only reached when neither values nor metadata come back.
    const res = await this.index.query(Array.from(vector), {
      topK: Math.min(topK, VECTORIZE_MAX_TOP_K),
      namespace: this.namespace,
      returnValues: false,
      returnMetadata: "none",
    });
    return res.matches.map((m) => ({ id: m.id, score: m.score }));
  }
}

/**
 * Vectorize's documented limit on topK (developers.cloudflare.com/vectorize/platform/limits): 100 without
 * values or metadata, 20 with either.
 */
export const VECTORIZE_MAX_TOP_K = 100;

/** Vectorize (namespace = project) when it is bound and the project is known; otherwise the shard's SQLite vectors. */
export function chooseVectorIndex(vectors: VectorizeIndex | undefined, projectId: string | undefined, sql: SqlStorage): VectorIndex {
  return vectors && projectId ? new VectorizeVectorIndex(vectors, projectId) : sqliteVectorIndex(sql);
}

// One index per shard's storage: its in-memory copy of the vectors lives as long as the object, and every
// writer invalidates the copy the queries read.
const sqliteIndexes = new WeakMap<SqlStorage, SqliteVectorIndex>();

/** The shard's own SQLite vector index, the same instance for every caller of this storage. */
export function sqliteVectorIndex(sql: SqlStorage): SqliteVectorIndex {
  let index = sqliteIndexes.get(sql);
  if (!index) {
    index = new SqliteVectorIndex(sql);
    sqliteIndexes.set(sql, index);
  }
  return index;
}
