/**
 * Fill: what packing left of the budget takes file summaries of ranked files, then summaries matching
 * the prompt, then every other summary; then, for a project larger than the budget, the remaining
 * chunks and the lines excerpts left out; last, a line prefix of the best piece that did not fit.
 */
import { queryTerms } from "../retrieval/terms";
import type { TokenBudget } from "./budget";
import type { ChunkLoader, Packed, SnippetList } from "./pack";
import { pieceKey } from "./pack";
import { asPiece, excerptRest, linePrefixWithin, summaryPiece } from "./pieces";
import { type RenderPiece, renderPiece, sourceLine } from "./prompt";
import type { Ranking } from "./rank";
import type { RetrievalStore, Summary } from "./types";

const SUMMARY_MATCH_K = 200;
// Below this many free tokens no further chunk, excerpt rest or prefix is worth a lookup.
const MIN_GAP = 64;
// Slack for where a prefix meets its source line: counted apart, the two may tokenize differently when joined.
const PREFIX_BLOCK_SLACK = 4;

export type SummaryEntry = { piece: RenderPiece; tokens: number; score: number };

/** The summaries section as it fills: each summary is charged to the budget, the section's header with the first. */
export class SummaryList {
  readonly items: SummaryEntry[] = [];

  constructor(
    private readonly budget: TokenBudget,
    private readonly headerTokens: number,
  ) {}

  add(s: Summary, score: number): void {
    const cost = s.block + (this.items.length === 0 ? this.headerTokens : 0);
    if (!this.budget.fits(cost)) return;
    this.budget.take(cost);
    this.items.push({ piece: summaryPiece(s), tokens: s.tokens, score });
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
  if (!budget.fits(1)) return;
  const seen = new Set(packed.wholeFiles);
  for (const s of store.fileSummaries(
    ranking.fileOrder.filter((p) => !packed.wholeFiles.has(p)),
    req.tokenizer,
  )) {
    seen.add(s.path);
    summaries.add(s, ranking.ranked.get(ranking.chunksByFile.get(s.path)?.[0] ?? "")?.score ?? 0);
  }
  // Summaries are indexed like chunks: those matching the prompt come next, then the rest.
  const matches = budget.fits(1) ? store.summaryMatches(queryTerms(req.prompt), SUMMARY_MATCH_K) : [];
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
    if (d && budget.fits(1)) {
      summaries.add(d, 0);
      dirs.delete(m.path);
    }
  }
  if (budget.fits(1)) for (const s of ctx.everyFileSummary()) if (!seen.has(s.path)) summaries.add(s, 0);
  if (budget.fits(1)) for (const d of dirs.values()) summaries.add(d, 0);
}

/** When the project is larger than the budget: the chunks not yet included, in path order. */
export function fillRemainingChunks(ctx: FillContext): void {
  const { store, req, budget, packed, snippets, loader } = ctx;
  if (!budget.fits(MIN_GAP) || store.totalTokens(req.tokenizer) <= req.budget) return;
  for (const path of ctx.everyFileSummary().map((s) => s.path)) {
    if (!budget.fits(MIN_GAP)) break;
    if (packed.wholeFiles.has(path)) continue;
    const rest = store.chunksOfPaths([path]).filter((c) => !snippets.included.has(c.chunkId));
    for (const body of loader.load(rest.map((c) => c.chunkId))) snippets.add(asPiece(body), 0, ["budget fill"]);
  }
}

/** The lines of excerpted chunks that were left out, before and after each included excerpt. */
export function fillExcerptRest(ctx: FillContext): void {
  const { budget, packed, snippets, ranking } = ctx;
  for (const { body, piece } of packed.excerpts) {
    if (!budget.fits(MIN_GAP) || !snippets.included.has(pieceKey(piece))) continue;
    const e = ranking.ranked.get(body.chunkId);
    for (const p of excerptRest(body, piece))
      snippets.add({ piece: p, block: budget.base(renderPiece(p)), tokens: budget.modelCount(p.text) }, e?.score ?? 0, ["budget fill"]);
  }
}

/** The spec's last step: trim a trailing piece so the remaining gap is used. */
export function fillTrailingPrefix(ctx: FillContext): void {
  const { budget, snippets, loader } = ctx;
  // Iterates the live list: a prefix that does not fit after all is queued like any leftover.
  for (const l of snippets.leftovers) {
    if (!budget.fits(MIN_GAP)) break;
    if (snippets.has(l.piece.piece)) continue;
    const header = budget.base(sourceLine(l.piece.piece)) + PREFIX_BLOCK_SLACK + snippets.header();
    const room = budget.roomAfter(header);
    const full = l.piece.textless ? loader.textOf(l.piece.piece) : l.piece.piece.text;
    const prefix = linePrefixWithin(full, room, budget.base);
    if (!prefix) continue;
    const piece: RenderPiece = { ...l.piece.piece, endLine: l.piece.piece.startLine + prefix.lines - 1, text: prefix.text };
    // A prefix is a new block the caller does not hold.
    snippets.add({ piece, block: budget.base(renderPiece(piece)), tokens: budget.modelCount(prefix.text) }, l.score, l.reasons);
  }
}

/** Every fill stage, in order. */
export function fill(ctx: FillContext, summaries: SummaryList): void {
  fillSummaries(ctx, summaries);
  fillRemainingChunks(ctx);
  fillExcerptRest(ctx);
  fillTrailingPrefix(ctx);
}
