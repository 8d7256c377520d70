/** The project index shard's storage and feature modules; `durable-objects/project-index.ts` hosts them. */
export { type DerivedSummary, directoryTree, rebuildDerived, rebuildEdges, summarizeTree, writeSummaries } from "./derived";
export { type ComplianceLookup, type EmbeddingBindings, type EmbeddingSetup, REEMBED_BATCH, ShardEmbeddings } from "./embeddings";
export { recordFeedback } from "./feedback";
export { type FileLines, linesOf, readFileLines } from "./file-lines";
export { mirrorSummaries } from "./mirror-summaries";
export {
  cachedSummary,
  type DirWork,
  dirSummaryWork,
  type ModelSummaryLevel,
  recordSummaryStatus,
  type StoredSummary,
  SUMMARY_STATUSES,
  type SummaryReport,
  type SummaryStatus,
  type SummaryWork,
  storeDirSummary,
  storeModelSummary,
  summariesTouchedAt,
  summaryInput,
  summaryReport,
  summaryWork,
  touchSummaries,
  unsettledSummaryPaths,
} from "./model-summaries";
export { buildPathLookup, PathCache, type PathLookup, resolveImport } from "./path-lookup";
export { PURGE_VECTORS, purgeVectorBatch } from "./purge";
export { createRetrievalStore, ftsAnyOf, heldRangesOf, type RetrievalDeps } from "./retrieval-store";
export { CURRENT_SCHEMA_VERSION, hasIndexSchema, MIGRATIONS, migrateIndexStore, readMeta, schemaVersion, writeMeta } from "./schema";
export { previewOf, type SearchHit, searchChunks } from "./search";
export { shardStats } from "./stats";
export { findSymbol, type SymbolHit, type SymbolMatches } from "./symbol-lookup";
export { type TermCounts, TermCountsCache } from "./term-counts-cache";
export { chunkCounts, summaryBlock } from "./token-counts";
export type { ChunkRow, IndexedChunk, IndexedFile, IndexInput, IndexShard, ShardStats } from "./types";
export { dropFile, indexBatch, insertFile, type ToEmbed } from "./write-path";
