/**
 * An optional rerank of the ranking's top files by a small model, at assembly time. The model sees the
 * prompt and the candidates' paths and summaries and answers an order; the candidates then take the
 * same file scores they had, in the model's order, so packing (which follows file scores) follows it
 * and stays independent of the budget. Any failure, timeout or invalid answer leaves the ranking as it
 * was and says why in the result.
 */
import type { Ranking } from "./rank";
import type { RetrievalStore } from "./types";

/** Files the model sees at most, and the characters of each one's summary (a bounded prompt). */
export const RERANK_MAX_K = 30;
export const RERANK_SUMMARY_CHARS = 300;

export type RerankCandidate = { path: string; summary: string };
/** A finished model call: the order it answered (paths best first) or why it is unusable, and what it cost. */
export type RerankCall = {
  model: string;
  order?: string[];
  invalid?: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
};
/** Calls the model; throws when the call itself fails. */
export type Reranker = (prompt: string, candidates: RerankCandidate[], signal: AbortSignal) => Promise<RerankCall>;

export const RERANK_STATUSES = ["applied", "failed", "timeout", "invalid", "unavailable", "skipped"] as const;
export type RerankStatus = (typeof RERANK_STATUSES)[number];
export type RerankOutcome = {
  status: RerankStatus;
  model: string;
  candidates: number;
  /** The candidates' order after the rerank (applied), best first. */
  order?: string[];
  reason?: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
};

/** Gives the top files the model's order: the listed ones first, the others after in their own order, on the same scores. */
export function applyRerank(ranking: Ranking, order: string[], k: number): string[] {
  const top = ranking.fileOrder.slice(0, k);
  const inTop = new Set(top);
  const listed = [...new Set(order.filter((p) => inTop.has(p)))];
  const seen = new Set(listed);
  const reordered = [...listed, ...top.filter((p) => !seen.has(p))];
  const scores = top.map((p) => ranking.fileScores.get(p) ?? 0).sort((a, b) => b - a);
  for (const [i, p] of reordered.entries()) ranking.fileScores.set(p, scores[i] ?? 0);
  ranking.fileOrder.splice(0, top.length, ...reordered);
  return reordered;
}

/** Runs the reranker on the top `topK` files within `timeoutMs`; the ranking changes only on a valid answer. */
export async function rerankRanking(
  store: RetrievalStore,
  req: { prompt: string; tokenizer: Parameters<RetrievalStore["fileSummaries"]>[1] },
  ranking: Ranking,
  opts: { topK: number; timeoutMs: number; model: string },
  reranker: Reranker,
): Promise<RerankOutcome> {
  const paths = ranking.fileOrder.slice(0, Math.min(opts.topK, RERANK_MAX_K));
  const none = { model: opts.model, candidates: paths.length, inputTokens: 0, outputTokens: 0, costUsd: 0 };
  if (paths.length < 2) return { ...none, status: "skipped", reason: "fewer than two candidate files" };
  const summaries = new Map(store.fileSummaries(paths, req.tokenizer).map((s) => [s.path, s.text]));
  const candidates = paths.map((path) => ({ path, summary: (summaries.get(path) ?? "").replace(/\s+/g, " ").slice(0, RERANK_SUMMARY_CHARS) }));
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve("timeout");
    }, opts.timeoutMs);
  });
  try {
    const call = await Promise.race([reranker(req.prompt, candidates, abort.signal), timeout]);
    if (call === "timeout") return { ...none, status: "timeout", reason: `no answer within ${opts.timeoutMs} ms` };
    const spent = { model: call.model, candidates: paths.length, inputTokens: call.inputTokens, outputTokens: call.outputTokens, costUsd: call.costUsd };
    if (!call.order) return { ...spent, status: "invalid", reason: call.invalid ?? "the answer was not a valid order" };
    return { ...spent, status: "applied", order: applyRerank(ranking, call.order, paths.length) };
  } catch (e) {
    return { ...none, status: "failed", reason: e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
  }
}
