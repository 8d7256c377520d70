/**
 * The rerank call: the request and the candidate files (paths and summaries, numbered) go to the small
 * model, which answers the candidates' numbers best first as JSON. The answer is external input: checked
 * with zod (whole numbers among the candidates', no repeats), else the call is reported invalid.
 */
import { z } from "zod";
import type { RerankCall, RerankCandidate, Reranker } from "../assembly/rerank";
import { parseJsonAnswer } from "./json-answer";
import type { SmallModel } from "./small-model";

// The request as the model sees it is cut here (~2k tokens): enough to say what is asked, bounded in cost.
const PROMPT_CHARS = 8000;
const RERANK_MAX_TOKENS = 200;

export const RERANK_SYSTEM =
  'You rank source files by how likely each must be read or changed to handle a developer\'s request. Answer with JSON only: {"ranking": [candidate numbers, most relevant first]}. List every candidate that matters; leave out those that do not.';

export function rerankUserTurn(prompt: string, candidates: RerankCandidate[]): string {
  const request = prompt.length <= PROMPT_CHARS ? prompt : `${prompt.slice(0, PROMPT_CHARS)}\n[… cut]`;
  const list = candidates.map((c, i) => `[${i}] ${c.path}${c.summary ? ` — ${c.summary}` : ""}`).join("\n");
  return `Request:\n${request}\n\nCandidates:\n${list}`;
}

/** The answer's order as paths, or what is wrong with it. */
export function parseRerank(text: string, candidates: RerankCandidate[]): { order: string[] } | { invalid: string } {
  const schema = z.object({
    ranking: z
      .array(
        z
          .number()
          .int()
          .min(0)
          .max(candidates.length - 1),
      )
      .min(1)
      .max(candidates.length)
      .refine((xs) => new Set(xs).size === xs.length, "a candidate is listed twice"),
  });
  const parsed = parseJsonAnswer(text, schema);
  if (!parsed.ok) return { invalid: `the model's answer was not a valid ranking: ${parsed.error}` };
  return { order: parsed.value.ranking.map((i) => candidates[i]?.path ?? "") };
}

export function modelReranker(model: SmallModel): Reranker {
  return async (prompt, candidates, signal): Promise<RerankCall> => {
    const r = await model.complete(RERANK_SYSTEM, rerankUserTurn(prompt, candidates), RERANK_MAX_TOKENS, signal);
    const spent = { model: model.model, inputTokens: r.usage.inputTokens, outputTokens: r.usage.outputTokens, costUsd: r.costUsd };
    return { ...spent, ...parseRerank(r.text, candidates) };
  };
}
