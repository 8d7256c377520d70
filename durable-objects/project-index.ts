/**
 * ProjectIndex: one Durable Object per project, the project's search shard (see src/lib/index-store).
 * The class owns the storage and the lifecycle — schema migration at first use, the alarm that
 * rebuilds derived data once ingestion goes quiet, purge — and hands everything else to feature
 * modules. D1 stays the system of record; this is derived state.
 */
import { DurableObject } from "cloudflare:workers";
import { type AssembleRequest, type AssembleResult, assembleContext, type Reranker, type RetrievalStore, rankingOff } from "../src/lib/assembly/assemble";
import { caught, type ErrorResult } from "../src/lib/errors";
import { isProjectInComplianceMode } from "../src/lib/governance";
import {
  cachedSummary,
  createRetrievalStore,
  type DirWork,
  dirSummaryWork,
  type FileLines,
  findSymbol,
  hasIndexSchema,
  type IndexInput,
  type IndexShard,
  indexBatch,
  type ModelSummaryLevel,
  migrateIndexStore,
  mirrorSummaries,
  PathCache,
  purgeVectorBatch,
  readFileLines,
  readMeta,
  rebuildDerived,
  recordFeedback,
  recordSummaryStatus,
  type SearchHit,
  ShardEmbeddings,
  type ShardStats,
  type StoredSummary,
  type SummaryReport,
  type SummaryStatus,
  type SummaryWork,
  type SymbolMatches,
  searchChunks,
  shardStats,
  storeDirSummary,
  storeModelSummary,
  summariesTouchedAt,
  summaryInput,
  summaryReport,
  summaryWork,
  TermCountsCache,
  touchSummaries,
  unsettledSummaryPaths,
} from "../src/lib/index-store";
import { orgConcurrency, orgGate } from "../src/lib/model/org-gate";
import { modelReranker } from "../src/lib/model/rerank";
import { smallModelClient } from "../src/lib/model/small-model";
import { chooseVectorIndex, type VectorIndex } from "../src/lib/retrieval/vector-index";
import { openDb } from "../src/lib/storage";

export type { IndexedChunk, IndexedFile, IndexInput } from "../src/lib/index-store";

/**
 * The shard's choice of embedder and vector index: the org's compliance mode, read from D1 at each ingest
 * and query that could reach Workers AI, decides it (src/lib/index-store/embeddings.ts).
 */
export function shardEmbeddings(sql: SqlStorage, env: { DB: D1Database; AI?: Ai | undefined; VECTORS?: VectorizeIndex | undefined }): ShardEmbeddings {
  return new ShardEmbeddings(sql, { ai: env.AI, vectorize: env.VECTORS }, (projectId) => isProjectInComplianceMode(openDb(env.DB), projectId));
}

// Derived data is rebuilt this long after the last indexed batch, so a burst of batches rebuilds once.
const DERIVED_DELAY_MS = 2000;

export class ProjectIndex extends DurableObject<Env> implements IndexShard {
  private readonly sql: SqlStorage;
  private readonly embeddings: ShardEmbeddings;
  private readonly paths: PathCache;
  private readonly termCounts: TermCountsCache;
  private vectors: VectorIndex | undefined;
  // The schema is created at first use, not in the constructor, so a purged shard stays empty.
  private ready = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.embeddings = shardEmbeddings(this.sql, env);
    this.paths = new PathCache(this.sql);
    this.termCounts = new TermCountsCache(this.sql);
  }

  private open(): void {
    if (this.ready) return;
    migrateIndexStore(this.ctx.storage);
    this.ready = true;
  }

  /**
   * Vectorize (namespace = project) when bound, else the shard's own SQLite vectors: what a purge empties.
   * A shard with Vectorize bound but no project id yet has nothing indexed, so that choice is not kept.
   */
  private vectorIndex(): VectorIndex {
    if (this.vectors) return this.vectors;
    const projectId = readMeta(this.sql, "project_id");
    const index = chooseVectorIndex(this.env.VECTORS, projectId, this.sql);
    if (projectId !== undefined || this.env.VECTORS === undefined) this.vectors = index;
    return index;
  }

  async indexFiles(input: IndexInput): Promise<{ files: number; chunks: number; removed: number }> {
    this.open();
    const { embedder, vectors } = await this.embeddings.resolve(input.projectId);
    const result = await indexBatch(this.sql, input, { vectors: () => vectors, embedder });
    this.paths.invalidate();
    this.termCounts.invalidate();
    await this.ctx.storage.setAlarm(Date.now() + DERIVED_DELAY_MS);
    return result;
  }

  async alarm(): Promise<void> {
    // A purged shard has no schema and nothing to refresh.
    if (!this.ready && !hasIndexSchema(this.sql)) return;
    this.open();
    if (readMeta(this.sql, "derived_dirty") !== "0") await this.refreshDerived();
    // After a switch of embedder (the org's compliance mode changed), one batch per alarm until all are moved.
    const { done } = await this.embeddings.reembedBatch();
    if (!done) await this.ctx.storage.setAlarm(Date.now());
  }

  /** Errors meant for the caller come back as data: an exception's class does not survive the RPC boundary. */
  async assemble(req: AssembleRequest): Promise<AssembleResult | ErrorResult> {
    const store = await this.retrievalStore();
    return caught(() => assembleContext(store, { ...req, rankingOff: rankingOff(this.env.WINKY_RANKING_OFF) }, { reranker: this.reranker(req) }));
  }

  /** The small model for a rerank the route allowed, when the key is configured here. */
  private reranker(req: AssembleRequest): Reranker | undefined {
    if (!req.rerank || !this.env.ANTHROPIC_API_KEY) return undefined;
    return modelReranker(
      smallModelClient({
        apiKey: this.env.ANTHROPIC_API_KEY,
        baseURL: this.env.ANTHROPIC_BASE_URL,
        model: req.rerank.model,
        gate: orgGate(this.env.ORG_MODEL_GATE, req.rerank.orgId, orgConcurrency(this.env.ORG_MODEL_CONCURRENCY)),
        // An interactive call: one retry, then the unreranked order.
        maxRetries: 1,
      }),
    );
  }

  /** A store for one read, over derived data brought up to date first. */
  private async retrievalStore(): Promise<RetrievalStore> {
    this.open();
    if (readMeta(this.sql, "derived_dirty") === "1") await this.refreshDerived();
    const { embedder, vectors, reembedding } = await this.embeddings.resolve();
    if (reembedding && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
    return createRetrievalStore(this.sql, {
      paths: () => this.paths.get(),
      fileTokens: () => this.paths.tokens(),
      termCounts: this.termCounts,
      embedder,
      vectors: () => vectors,
      modelSummaries: !rankingOff(this.env.WINKY_RANKING_OFF).includes("model-summaries"),
    });
  }

  /** The assembler's ranking for a query, as chunks with previews (src/lib/index-store/search.ts). */
  async search(query: string, limit: number): Promise<SearchHit[]> {
    return searchChunks(await this.retrievalStore(), this.sql, query, limit, rankingOff(this.env.WINKY_RANKING_OFF));
  }

  /** Lines of one file rebuilt from its chunks; `not_found` for a path the shard does not hold. */
  async readFile(path: string, startLine: number, endLine: number, maxChars: number): Promise<FileLines | ErrorResult> {
    this.open();
    return caught(async () => readFileLines(this.sql, path, startLine, endLine, maxChars));
  }

  async findSymbol(name: string, limit: number): Promise<SymbolMatches> {
    this.open();
    return findSymbol(this.sql, name, limit);
  }

  async recordFeedback(generationId: string, paths: string[], approved: boolean): Promise<void> {
    this.open();
    recordFeedback(this.sql, generationId, paths, approved, Date.now());
  }

  async summaryWork(paths: string[]): Promise<SummaryWork[]> {
    this.open();
    return summaryWork(this.sql, paths, Date.now());
  }

  async summaryInput(path: string, sha256: string): Promise<string[] | undefined> {
    this.open();
    return summaryInput(this.sql, path, sha256);
  }

  async cachedSummary(level: ModelSummaryLevel, sha256: string): Promise<string | undefined> {
    this.open();
    return cachedSummary(this.sql, level, sha256);
  }

  async storeModelSummary(s: StoredSummary, file: { path: string } | undefined): Promise<void> {
    this.open();
    storeModelSummary(this.sql, s, file, Date.now());
  }

  async recordSummaryStatus(files: { path: string; sha256: string }[], status: SummaryStatus, detail: string): Promise<void> {
    this.open();
    recordSummaryStatus(this.sql, files, status, detail, Date.now());
  }

  async dirSummaryWork(limit: number): Promise<{ work: DirWork[]; more: boolean }> {
    this.open();
    // Directories come from the derived rebuild: bring it up to date first.
    if (readMeta(this.sql, "derived_dirty") === "1") await this.refreshDerived();
    return dirSummaryWork(this.sql, limit);
  }

  async storeDirSummary(path: string, s: StoredSummary): Promise<void> {
    this.open();
    storeDirSummary(this.sql, path, s, Date.now());
  }

  async summariesQuietMs(touch = false): Promise<number> {
    this.open();
    const now = Date.now();
    const quiet = now - summariesTouchedAt(this.sql);
    if (touch) touchSummaries(this.sql, now);
    return quiet;
  }

  async unsettledSummaryPaths(after: string | null, limit: number): Promise<string[]> {
    this.open();
    return unsettledSummaryPaths(this.sql, after, limit);
  }

  async summaryReport(): Promise<SummaryReport> {
    this.open();
    return summaryReport(this.sql);
  }

  async stats(): Promise<ShardStats> {
    this.open();
    return shardStats(this.sql);
  }

  /** Removes everything, in bounded calls (a project deletion calls until `done`): vectors first, then the storage. */
  async purge(): Promise<{ done: boolean; vectorsRemoved: number }> {
    if ((this.ready || hasIndexSchema(this.sql)) && this.env.VECTORS && readMeta(this.sql, "project_id") !== undefined) {
      const removed = await purgeVectorBatch(this.sql, this.vectorIndex());
      if (removed > 0) return { done: false, vectorsRemoved: removed };
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.ready = false;
    this.vectors = undefined;
    this.paths.invalidate();
    this.termCounts.invalidate();
    return { done: true, vectorsRemoved: 0 };
  }

  /** Directory and project summaries and the import graph, mirrored to D1's summaries table. */
  async refreshDerived(): Promise<void> {
    this.open();
    const { projectId, rows } = await rebuildDerived(this.sql, () => this.paths.get());
    if (projectId) await mirrorSummaries(this.env.DB, projectId, rows);
  }
}
