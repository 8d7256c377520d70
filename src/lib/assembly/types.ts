/** The assembler's data: what it reads from a store, what it is asked, and what it answers. */
import type { PathMention } from "../retrieval/prompt-paths";
import type { Tokenizer } from "../tokenizer";
import type { ConversationMessage, PieceKind, PromptBlock, RenderPiece } from "./prompt";
import type { RerankOutcome } from "./rerank";
import type { SectionTokens } from "./sections";

export type Signal =
  | "hot path"
  | "mentioned path"
  | "summary match"
  | "error message"
  | "recent change"
  | "ai feedback"
  | "lexical match"
  | "title match"
  | "symbol definition"
  | "symbol link"
  | "package manifest"
  | "vector match"
  | NeighbourReason
  | "summary fill"
  | "budget fill";

/** Why a file beside the ranking got a first turn (assembly/neighbours.ts). */
export type NeighbourReason = "directory neighbour" | "namesake" | "project settings" | "imported file";

/** The signals that rank chunks (the others label what packing and fill added past the ranking). */
export type RankSignal = Exclude<Signal, NeighbourReason | "summary fill" | "budget fill">;

export type ChunkMeta = { chunkId: string; path: string; ordinal: number; startLine: number; endLine: number };
/**
 * A chunk with its text, its text's tokens in the model's tokenizer, and its rendered block's tokens in
 * the base encoding. `textless`: the caller holds this whole chunk's block already, so its text was not
 * read (it is read on demand if only part of the chunk is used).
 */
export type ChunkBody = ChunkMeta & {
  text: string;
  tokens: number;
  block: number;
  textless?: boolean;
  /** Its line segments' base-encoding counts, once the store has them (pieces.ts `lineSegments`). */
  segments?: Int32Array;
};
export type Summary = { id: string; kind: "file-summary" | "dir-summary" | "project-summary"; path: string; text: string; tokens: number; block: number };

/** What the assembler reads; the project's index shard implements it over its SQLite (src/lib/index-store). */
export interface RetrievalStore {
  /** BM25 over chunks holding any of the terms (a term of several words is a phrase: its words in that order). */
  lexical(terms: string[], limit: number): { chunkId: string; score: number }[];
  /** How many chunks there are and how many hold each term. */
  termStats(terms: string[]): { chunks: number; df: Map<string, number> };
  /** Files the prompt names (paths, traceback frames, module names), in order of mention. */
  mentioned(prompt: string): PathMention[];
  vector(prompt: string, limit: number): Promise<{ chunkId: string; score: number }[]>;
  definitions(names: string[]): { path: string; line: number }[];
  /** Files linked to the paths by imports or the names they use, most linked first (a link to an earlier path weighs more). */
  neighbors(paths: string[], limit: number): string[];
  /** The files each of the paths links to (imports, or uses a name of), in path order. */
  linksFrom(paths: string[]): { from: string; to: string }[];
  recentPaths(limit: number): string[];
  /** Files of the project's most recently approved AI changes, newest first. */
  approvedPaths(limit: number): string[];
  existingPaths(paths: string[]): Set<string>;
  /** Every file directly in one of the directories ("" is the root), in path order. */
  filesIn(dirs: string[]): string[];
  /** Every file at the root and under the root's dot-directories (`.cargo/`, `.github/workflows/`), in path order. */
  filesAtTop(): string[];
  /** Every file whose name (its path's last part) is one of `names`, in path order. */
  filesNamed(names: string[]): string[];
  chunksOfPaths(paths: string[]): ChunkMeta[];
  chunkMeta(ids: string[]): ChunkMeta[];
  fileTokens(paths: string[], tokenizer: Tokenizer): Map<string, number>;
  /** Chunks in the given order; with `heldKeys`, a chunk whose whole block key is held comes back textless. */
  loadChunks(ids: string[], tokenizer: Tokenizer, heldKeys?: string[]): ChunkBody[];
  /** Keeps a chunk's line segment counts in the tokenizer's base encoding (a store may not keep them). */
  saveSegments?(chunkId: string, tokenizer: Tokenizer, segments: Int32Array): void;
  projectSummary(tokenizer: Tokenizer): Summary | undefined;
  fileSummaries(paths: string[] | "all", tokenizer: Tokenizer): Summary[];
  dirSummaries(tokenizer: Tokenizer): Summary[];
  /** File and directory summaries whose text or path matches the terms, best first (BM25). */
  summaryMatches(terms: string[], limit: number): { level: "file" | "directory"; path: string }[];
  totalTokens(tokenizer: Tokenizer): number;
}

/** Ranking features the eval can switch off one by one (`WINKY_RANKING_OFF`), to measure what each is worth. */
export const RANKING_FEATURES = [
  "vector",
  "mentions",
  "kind-prior",
  "idf-terms",
  "symbols",
  "summaries",
  "error-messages",
  "title",
  "manifests",
  // Model-written summaries read in place of the extractive ones (src/lib/index-store/model-summaries.ts).
  "model-summaries",
] as const;
export type RankingFeature = (typeof RANKING_FEATURES)[number];

export type AssembleRequest = {
  prompt: string;
  budget: number;
  hotPaths: string[];
  tokenizer: Tokenizer;
  conversation: ConversationMessage[];
  includeText: boolean;
  /** The text of the instruction section when it differs from the retrieval prompt (later passes). */
  instruction?: string;
  /**
   * Keys of blocks the caller already holds (a session's hot window): with it, the text comes back as
   * `blocks`, and those blocks carry their key without their text.
   */
  cachedKeys?: string[];
  /** Ranking features switched off (an operator's setting for measurements, never a caller's). */
  rankingOff?: RankingFeature[];
  /** Rerank the top files with a small model (the route has checked the org allows it; the shard holds the key). */
  rerank?: { orgId: string; model: string; topK: number; timeoutMs: number } | undefined;
};

export type ContextPiece = {
  chunkId: string;
  kind: PieceKind;
  tokenCount: number;
  textPreview: string;
  sourcePath: string;
  startLine: number;
  endLine: number;
  score: number;
  reasons: Signal[];
};

/** A piece as audit records and events name it: id, kind, path, lines and tokens, never text. */
export type PieceRef = { id: string; kind: PieceKind; path: string; lines: [number, number]; tokens: number };

export type AssembleResult = {
  contextPieces: ContextPiece[];
  tokenTotal: number;
  tokenBudget: number;
  utilization: number;
  /** Model tokens per prompt section (they sum to `tokenTotal`) and the safety margin held out of the budget. */
  sections: SectionTokens;
  timings: Record<string, number>;
  warnings: string[];
  contextText?: string;
  blocks?: PromptBlock[];
  /** What the rerank did, when one was asked for. */
  rerank?: RerankOutcome;
};

/** A piece ready to add: its render form, its block's base-encoding tokens and its text's model tokens. */
export type PackedPiece = { piece: RenderPiece; block: number; tokens: number; textless?: boolean };
