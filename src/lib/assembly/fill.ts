/**
 * Fill, once every ranked piece is in: what is left of the budget takes file summaries of ranked files,
 * then summaries matching the prompt, then every other summary; then the remaining chunks. Like
 * packing, fill takes a prefix of a fixed order and stops at the first item that does not fit (a chunk
 * is cut to a line prefix), so a larger budget only adds.
 */
import { queryTerms } from "../retrieval/terms";
import type { TokenBudget } from "./budget";
import type { ChunkLoader, Packed, SnippetList } from "./pack";
import { asPiece, summaryPiece } from "./pieces";
import type { RenderPiece } from "./prompt";
import type { Ranking } from "./rank";
import type { RetrievalStore, Summary } from "./types";

const SUMMARY_MATCH_K = 200;
// Below this many free tokens no further chunk is worth a lookup.
const MIN_GAP = 64;

export type SummaryEntry = { piece: RenderPiece; tokens: number; score: number };

/**
 * The summaries section as it fills: each summary is charged to the budget, the section's header with
 * the first. The first summary that does not fit closes the list: later ones are refused too.
 */
export class SummaryList {
  readonly items: SummaryEntry[] = [];
  /** Base-encoding tokens the section took, its header included. */
  taken = 0;
  private closed = false;

  constructor(
    private readonly budget: TokenBudget,
    private readonly headerTokens: number,
  ) {}

  get full(): boolean {
    return this.closed;
  }

  add(s: Summary, score: number): boolean {
    const cost = s.block + (this.items.length === 0 ? this.headerTokens : 0);
    if (this.closed || !this.budget.fits(cost)) {
      this.closed = true;
      return false;
    }
    this.budget.take(cost);
    this.taken += cost;
    this.items.push({ piece: summaryPiece(s), tokens: s.tokens, score });
    return true;
  }
}

/** Every file's summary, read at most once per assembly: two fill stages walk it. */
export type FileSummaries = () => Summary[];

export function lazyFileSummaries(store: RetrievalStore, tokenizer: Parameters<RetrievalStore["fileSummaries"]>[1]): FileSummaries {
  let all: Summary[] | undefined;
  return () => {
    all ??= store.fileSummaries("all", tokenizer);
    return all;
  };
}

type FillContext = {
  store: RetrievalStore;
  req: { prompt: string; budget: number; tokenizer: Parameters<RetrievalStore["fileSummaries"]>[1] };
  budget: TokenBudget;
  ranking: Ranking;
  packed: Packed;
  snippets: SnippetList;
  loader: ChunkLoader;
  everyFileSummary: FileSummaries;
};

/** File summaries (ranked files first), then summaries matching the prompt, then the other file and directory summaries. */
export function fillSummaries(ctx: FillContext, summaries: SummaryList): void {
  const { store, req, budget, ranking, packed } = ctx;
  if (!budget.fits(1) || summaries.full) return;
  const seen = new Set(packed.wholeFiles);
  for (const s of store.fileSummaries(
    ranking.fileOrder.filter((p) => !packed.wholeFiles.has(p)),
    req.tokenizer,
  )) {
    seen.add(s.path);
    summaries.add(s, ranking.ranked.get(ranking.chunksByFile.get(s.path)?.[0] ?? "")?.score ?? 0);
  }
  // Summaries are indexed like chunks: those matching the prompt come next, then the rest.
  const matches = !summaries.full ? store.summaryMatches(queryTerms(req.prompt), SUMMARY_MATCH_K) : [];
  const dirs = new Map(store.dirSummaries(req.tokenizer).map((d) => [d.path, d]));
  const matchedFiles = store.fileSummaries(
    matches.filter((m) => m.level === "file" && !seen.has(m.path)).map((m) => m.path),
    req.tokenizer,
  );
  for (const s of matchedFiles) {
    seen.add(s.path);
    summaries.add(s, 0);
  }
  for (const m of matches) {
    const d = m.level === "directory" ? dirs.get(m.path) : undefined;
    if (d && !summaries.full) {
      summaries.add(d, 0);
      dirs.delete(m.path);
    }
  }
  if (!summaries.full) for (const s of ctx.everyFileSummary()) if (!seen.has(s.path) && !summaries.add(s, 0)) return;
  if (!summaries.full) for (const d of dirs.values()) if (!summaries.add(d, 0)) return;
}

/** When every summary is in: the chunks not yet included, in path order (all of them when the project fits). */
export function fillRemainingChunks(ctx: FillContext, summaries: SummaryList): void {
  const { store, budget, packed, snippets, loader } = ctx;
  if (summaries.full || !budget.fits(MIN_GAP)) return;
  for (const path of ctx.everyFileSummary().map((s) => s.path)) {
    if (packed.wholeFiles.has(path)) continue;
    const rest = store.chunksOfPaths([path]).filter((c) => !snippets.included.has(c.chunkId));
    for (const body of loader.load(rest.map((c) => c.chunkId))) if (!snippets.addOrCut(asPiece(body), 0, ["budget fill"], loader)) return;
  }
}

/** Every fill stage, in order; nothing when packing stopped short. */
export function fill(ctx: FillContext, summaries: SummaryList): void {
  if (!ctx.packed.complete) return;
  fillSummaries(ctx, summaries);
  fillRemainingChunks(ctx, summaries);
}
