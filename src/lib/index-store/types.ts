/** The shapes the index shard takes in and the RPC surface src/lib code may call on it. */
import type { AssembleRequest, AssembleResult } from "../assembly/assemble";
import type { ErrorResult } from "../errors";
import type { FileSymbol } from "../retrieval/symbols";
import type { FileLines } from "./file-lines";
import type { DirWork, ModelSummaryLevel, StoredSummary, SummaryReport, SummaryStatus, SummaryWork } from "./model-summaries";
import type { SearchHit } from "./search";
import type { SymbolMatches } from "./symbol-lookup";

export type IndexedChunk = { chunkId: string; ordinal: number; startLine: number; endLine: number; text: string };
export type IndexedFile = {
  path: string;
  sha256: string;
  type: string;
  chunks: IndexedChunk[];
  symbols: FileSymbol[];
  summaryId: string;
  summary: string;
  head: string;
};
export type IndexInput = { projectId: string; projectName: string; files: IndexedFile[]; removed: string[]; changedAt: number };

export type ShardStats = { files: number; chunks: number; symbols: number; edges: number; summaries: number; tokensCl: number };

/** A row of the shard's `chunks` table. */
export type ChunkRow = {
  rid: number;
  chunk_id: string;
  path: string;
  ordinal: number;
  start_line: number;
  end_line: number;
  text: string;
  tokens_cl: number;
  tokens_o2: number | null;
  block_cl: number | null;
  block_o2: number | null;
  /** Line segment counts (Int32 little-endian), per base encoding; null until an excerpt counted them. */
  segs_cl?: ArrayBuffer | null;
  segs_o2?: ArrayBuffer | null;
};

/**
 * What callers reach through the shard's Durable Object stub; the object implements it, so src/lib
 * code can name the surface without importing the class.
 */
export interface IndexShard {
  indexFiles(input: IndexInput): Promise<{ files: number; chunks: number; removed: number }>;
  assemble(req: AssembleRequest): Promise<AssembleResult | ErrorResult>;
  search(query: string, limit: number): Promise<SearchHit[]>;
  readFile(path: string, startLine: number, endLine: number, maxChars: number): Promise<FileLines | ErrorResult>;
  findSymbol(name: string, limit: number): Promise<SymbolMatches>;
  recordFeedback(generationId: string, paths: string[], approved: boolean): Promise<void>;
  stats(): Promise<ShardStats>;
  purge(): Promise<{ done: boolean; vectorsRemoved: number }>;
  refreshDerived(): Promise<void>;
  /** Model-written summaries (src/lib/summaries drives them from the ingestion queue). */
  summaryWork(paths: string[]): Promise<SummaryWork[]>;
  summaryInput(path: string, sha256: string): Promise<string[] | undefined>;
  cachedSummary(level: ModelSummaryLevel, sha256: string): Promise<string | undefined>;
  storeModelSummary(s: StoredSummary, file: { path: string } | undefined): Promise<void>;
  recordSummaryStatus(files: { path: string; sha256: string }[], status: SummaryStatus, detail: string): Promise<void>;
  dirSummaryWork(limit: number): Promise<{ work: DirWork[]; more: boolean }>;
  storeDirSummary(path: string, s: StoredSummary): Promise<void>;
  /** Milliseconds since model-summary work last touched the shard (touching it now with `touch`). */
  summariesQuietMs(touch?: boolean): Promise<number>;
  summaryReport(): Promise<SummaryReport>;
}
