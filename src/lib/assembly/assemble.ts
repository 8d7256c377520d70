/**
 * The context assembler: rank every retrieval signal into one fused ranking, pack the best pieces under
 * the budget (whole small files before fragments, only the relevant chunks of large files), fill what is
 * left with summaries and remaining lines, and render the prompt in the spec's order. The budget is a
 * hard guarantee: blocks are counted in the base encoding, whose sum is the prompt's exact count.
 */

import { reportText } from "../retrieval/report-text";
import { TokenBudget } from "./budget";
import { fill, lazyFileSummaries, SummaryList } from "./fill";
import { ChunkLoader, packRanked, SnippetList } from "./pack";
import { SECTION } from "./prompt";
import { rankChunks } from "./rank";
import { contextPieces, renderContext } from "./render";
import { type Reranker, type RerankOutcome, rerankRanking } from "./rerank";
import { sectionTokens } from "./sections";
import {
  type AssembleRequest,
  type AssembleResult,
  type ContextPiece,
  type PieceRef,
  RANKING_FEATURES,
  type RankingFeature,
  type RetrievalStore,
} from "./types";

export { SAFETY_MARGIN, safetyMargin } from "./budget";
export { RERANK_MAX_K, RERANK_STATUSES, type RerankCall, type RerankCandidate, type Reranker, type RerankOutcome, type RerankStatus } from "./rerank";
export { SECTION_NAMES, type SectionName, type SectionTokens } from "./sections";
export type {
  AssembleRequest,
  AssembleResult,
  ChunkBody,
  ChunkMeta,
  ContextPiece,
  PieceRef,
  RankingFeature,
  RetrievalStore,
  Signal,
  Summary,
} from "./types";

/** The ranking features a `WINKY_RANKING_OFF` value names (comma-separated; names it does not know are ignored). */
export function rankingOff(value: string | undefined): RankingFeature[] {
  const names = new Set((value ?? "").split(",").map((s) => s.trim()));
  return RANKING_FEATURES.filter((f) => names.has(f));
}

export function pieceRefs(pieces: ContextPiece[]): PieceRef[] {
  return pieces.map((p) => ({ id: p.chunkId, kind: p.kind, path: p.sourcePath, lines: [p.startLine, p.endLine], tokens: p.tokenCount }));
}

/** Milliseconds per stage, two decimals, each lap measured from the one before. */
function stopwatch(): { timings: Record<string, number>; lap: (stage: string) => void; total: () => void } {
  const started = performance.now();
  let last = started;
  const timings: Record<string, number> = {};
  const round = (ms: number): number => Math.round(ms * 100) / 100;
  return {
    timings,
    lap: (stage) => {
      const now = performance.now();
      timings[stage] = round(now - last);
      last = now;
    },
    total: () => {
      timings.total = round(performance.now() - started);
    },
  };
}

/** `reranker`: the small model, when the request asks for a rerank and a key is configured. */
export async function assembleContext(store: RetrievalStore, req: AssembleRequest, deps: { reranker?: Reranker | undefined } = {}): Promise<AssembleResult> {
  const clock = stopwatch();
  const warnings: string[] = [];
  const budget = TokenBudget.forRequest(req);
  const summary = store.projectSummary(req.tokenizer);
  const projectSummary = summary !== undefined && budget.fits(budget.base(SECTION.projectSummary) + summary.block) ? summary : undefined;
  if (projectSummary) budget.take(budget.base(SECTION.projectSummary) + projectSummary.block);
  const snippets = new SnippetList(budget, budget.base(SECTION.snippets));
  const summaries = new SummaryList(budget, budget.base(SECTION.summaries));
  const loader = new ChunkLoader(store, req);
  clock.lap("prepare");

  // Retrieval reads the report without its template comments and package listings; the model gets it whole.
  const query = { ...req, prompt: reportText(req.prompt) };
  const ranking = await rankChunks(store, query, warnings, clock.lap);
  let rerank: RerankOutcome | undefined;
  if (req.rerank) {
    rerank = deps.reranker
      ? await rerankRanking(store, req, ranking, req.rerank, deps.reranker)
      : { status: "unavailable", model: req.rerank.model, candidates: 0, reason: "no model key is configured", inputTokens: 0, outputTokens: 0, costUsd: 0 };
    if (rerank.status !== "applied") warnings.push(`rerank ${rerank.status}: ${rerank.reason ?? ""}; the unreranked order was used`);
    clock.lap("rerank");
  }
  const packed = packRanked(store, query, ranking, budget, snippets, loader);
  clock.lap("pack");
  fill({ store, req: query, budget, ranking, packed, snippets, loader, everyFileSummary: lazyFileSummaries(store, req.tokenizer) }, summaries);
  clock.lap("fill");

  const tokenTotal = budget.total();
  const projectSummaryBase = projectSummary ? budget.base(SECTION.projectSummary) + projectSummary.block : 0;
  const rendered = req.includeText
    ? renderContext(
        {
          projectSummary,
          snippets: snippets.items,
          summaries: summaries.items,
          conversation: req.conversation,
          instruction: req.instruction ?? req.prompt,
          cachedKeys: req.cachedKeys,
        },
        (p) => loader.textOf(p),
      )
    : {};
  clock.lap("render");
  clock.total();
  return {
    contextPieces: contextPieces(projectSummary, snippets.items, summaries.items),
    tokenTotal,
    tokenBudget: req.budget,
    utilization: Math.round((tokenTotal / req.budget) * 10_000) / 10_000,
    sections: sectionTokens(budget, req, projectSummaryBase + summaries.taken),
    timings: clock.timings,
    warnings,
    ...(rerank ? { rerank } : {}),
    ...rendered,
  };
}
