/**
 * Which embedder and vector index a shard uses, call by call, by its org's compliance mode. With Workers
 * AI bound, an org in compliance mode embeds with the embedded hashing embedder into the shard's own
 * SQLite vectors (its 384 dimensions do not fit the 1024 of the Vectorize index), and every other org with
 * Workers AI into Vectorize. The mode is read at each call that could reach Workers AI — ingest and query —
 * so a switch holds from the next call on, and nothing is sent while an org is in compliance mode.
 *
 * A switch leaves the stored vectors made by the other embedder. The shard records which embedder its
 * vectors are for (`vector_embedder`); on a switch it re-embeds every chunk from its own text with the new
 * one, in batches run by the object's alarm, removing each chunk's vector from the old index as it goes.
 * Until that ends, the vector signal finds only what is re-embedded (lexical and the other signals are
 * whole), and a file written meanwhile has its old vectors removed from both indexes.
 */
import { type Embedder, HashingEmbedder, WorkersAiEmbedder } from "../retrieval/embedder";
import { chooseVectorIndex, sqliteVectorIndex, type VectorHit, type VectorIndex } from "../retrieval/vector-index";
import { readMeta, writeMeta } from "./schema";

export type EmbeddingBindings = { ai?: Ai | undefined; vectorize?: VectorizeIndex | undefined };
/** Whether the project's org is in compliance mode. */
export type ComplianceLookup = (projectId: string) => Promise<boolean>;

/** What one call uses: the embedder, the index its vectors go to, and whether a re-embedding is under way. */
export type EmbeddingSetup = { embedder: Embedder; vectors: VectorIndex; reembedding: boolean };

const EMBEDDER_KEY = "vector_embedder";
const REEMBED_FROM_KEY = "reembed_from";
const REEMBED_AFTER_KEY = "reembed_after_rid";
// Chunks re-embedded per alarm: 2 Workers AI calls of 100 inputs, and well under a Vectorize upsert's 1,000.
export const REEMBED_BATCH = 200;

const hasChunks = (sql: SqlStorage): boolean => sql.exec("SELECT 1 FROM chunks LIMIT 1").toArray().length > 0;

function deleteMeta(sql: SqlStorage, ...keys: string[]): void {
  for (const k of keys) sql.exec("DELETE FROM meta WHERE key = ?", k);
}

/** Writes to the new index; removals go to the old ones as well, so a re-embedding leaves no orphan behind. */
class SwitchingVectorIndex implements VectorIndex {
  constructor(
    private readonly next: VectorIndex,
    private readonly old: VectorIndex[],
  ) {}
  upsert(items: { id: string; vector: Float32Array; path: string }[]): Promise<void> {
    return this.next.upsert(items);
  }
  async remove(ids: string[]): Promise<void> {
    for (const index of this.old) await index.remove(ids);
    await this.next.remove(ids);
  }
  query(vector: Float32Array, topK: number): Promise<VectorHit[]> {
    return this.next.query(vector, topK);
  }
}

export class ShardEmbeddings {
  private readonly hashing = new HashingEmbedder();
  private readonly workersAi: WorkersAiEmbedder | undefined;

  constructor(
    private readonly sql: SqlStorage,
    private readonly bindings: EmbeddingBindings,
    private readonly isCompliant: ComplianceLookup,
  ) {
    this.workersAi = bindings.ai ? new WorkersAiEmbedder(bindings.ai) : undefined;
  }

  /** The index that holds an embedder's vectors: the shard's SQLite for the hashing embedder when Workers AI is bound. */
  private indexFor(embedderId: string, projectId: string | undefined): VectorIndex {
    if (this.workersAi && embedderId === this.hashing.id) return sqliteVectorIndex(this.sql);
    return chooseVectorIndex(this.bindings.vectorize, projectId, this.sql);
  }

  /** The embedder this call must use. Without Workers AI bound there is nothing to decide and nothing to read. */
  private async wanted(projectId: string | undefined): Promise<Embedder> {
    if (!this.workersAi) return this.hashing;
    // A shard that holds no project yet has nothing to search; it never reaches out for it.
    if (projectId === undefined) return this.hashing;
    return (await this.isCompliant(projectId)) ? this.hashing : this.workersAi;
  }

  /**
   * The embedder and index for one call (`projectId`: the batch's at ingest, the shard's otherwise). A
   * switch of embedder starts a re-embedding, which the caller's alarm carries on with `reembedBatch`.
   */
  async resolve(projectId = readMeta(this.sql, "project_id")): Promise<EmbeddingSetup> {
    const embedder = await this.wanted(projectId);
    // A shard indexed before the choice was recorded holds vectors of the embedder the bindings gave.
    const recorded = readMeta(this.sql, EMBEDDER_KEY) ?? (hasChunks(this.sql) ? (this.workersAi ?? this.hashing).id : undefined);
    if (recorded !== embedder.id) {
      if (recorded !== undefined && hasChunks(this.sql)) {
        // Switching again mid-way: every index written since the last finished re-embedding is emptied.
        writeMeta(this.sql, REEMBED_FROM_KEY, JSON.stringify([...new Set([...this.replaced(), recorded])]));
        writeMeta(this.sql, REEMBED_AFTER_KEY, "0");
      }
      writeMeta(this.sql, EMBEDDER_KEY, embedder.id);
    }
    const vectors = this.indexFor(embedder.id, projectId);
    const replaced = this.replaced();
    if (replaced.length === 0) return { embedder, vectors, reembedding: false };
    const old = replaced.filter((id) => id !== embedder.id).map((id) => this.indexFor(id, projectId));
    return { embedder, vectors: new SwitchingVectorIndex(vectors, old), reembedding: true };
  }

  /** The embedders whose vectors a re-embedding under way is replacing. */
  private replaced(): string[] {
    const raw = readMeta(this.sql, REEMBED_FROM_KEY);
    return raw ? (JSON.parse(raw) as string[]) : [];
  }

  /** Re-embeds the next batch of chunks after a switch; `done` once every chunk is in the new index. */
  async reembedBatch(limit = REEMBED_BATCH): Promise<{ done: boolean; reembedded: number }> {
    if (readMeta(this.sql, REEMBED_AFTER_KEY) === undefined) return { done: true, reembedded: 0 };
    const { embedder, vectors } = await this.resolve();
    const after = Number(readMeta(this.sql, REEMBED_AFTER_KEY) ?? 0);
    const rows = this.sql
      .exec<{ rid: number; chunk_id: string; path: string; text: string }>(
        "SELECT rid, chunk_id, path, text FROM chunks WHERE rid > ? ORDER BY rid LIMIT ?",
        after,
        limit,
      )
      .toArray();
    const ids = rows.map((r) => r.chunk_id);
    await vectors.remove(ids);
    // The same text the write path embeds (write-path.ts): the path, then the chunk.
    const embedded = await embedder.embed(rows.map((r) => `${r.path}\n${r.text}`));
    // A batch written while this one was being embedded may have dropped some of these chunks.
    const still = new Set(
      this.sql
        .exec<{ chunk_id: string }>("SELECT chunk_id FROM chunks WHERE chunk_id IN (SELECT value FROM json_each(?))", JSON.stringify(ids))
        .toArray()
        .map((r) => r.chunk_id),
    );
    await vectors.upsert(rows.flatMap((r, i) => (still.has(r.chunk_id) ? [{ id: r.chunk_id, path: r.path, vector: embedded[i] as Float32Array }] : [])));
    const last = rows.at(-1);
    if (rows.length < limit || !last) {
      deleteMeta(this.sql, REEMBED_AFTER_KEY, REEMBED_FROM_KEY);
      return { done: true, reembedded: rows.length };
    }
    writeMeta(this.sql, REEMBED_AFTER_KEY, String(last.rid));
    return { done: false, reembedded: rows.length };
  }
}
