/**
 * The fallback for a failed long-context expand: the change is proposed part by part, each part a
 * smaller context focused on a group of the files the full context held, then one cross-check pass
 * reads every part's proposal against the sources and merges them into one change.
 */

import type { AssembleResult } from "../assembly/assemble";
import { askPass } from "./ask-pass";
import { askSourced, type UnsupportedClaim } from "./assert-sources";
import { changeClaims, type SentSources } from "./citations";
import { fitPrompt, type PassContext } from "./fit-prompt";
import { budgetFor, CHANGE_MAX_TOKENS, MAX_SEGMENTS, PLAN_BUDGET, SEGMENT_TOKENS } from "./limits";
import { crossCheckInstruction, planQuery, segmentInstruction } from "./prompts";
import { type Plan, ProposedChange } from "./schemas";

/** How many parts the segmented fallback splits a context of `tokens` into. */
export function segmentCount(tokens: number): number {
  return Math.min(MAX_SEGMENTS, Math.max(2, Math.ceil(tokens / SEGMENT_TOKENS)));
}

/** Files spread over `n` groups, largest first onto the lightest group, so the parts are about even. */
export function segmentFiles(pieces: AssembleResult["contextPieces"], n: number): string[][] {
  const tokens = new Map<string, number>();
  for (const p of pieces) if (p.kind === "chunk") tokens.set(p.sourcePath, (tokens.get(p.sourcePath) ?? 0) + p.tokenCount);
  const groups = Array.from({ length: n }, () => ({ files: [] as string[], tokens: 0 }));
  for (const [path, t] of [...tokens].sort((a, b) => b[1] - a[1])) {
    const g = groups.reduce((a, b) => (b.tokens < a.tokens ? b : a));
    g.files.push(path);
    g.tokens += t;
  }
  return groups.map((g) => g.files).filter((f) => f.length > 0);
}

/** Proposes the change in segments of `full` and cross-checks them; every chunk sent is added to `sent`. */
export async function generateSegmented(
  ctx: PassContext,
  prompt: string,
  plan: Plan,
  full: AssembleResult,
  budget: number,
  sent: SentSources,
): Promise<{ answer: ProposedChange; unsupported: UnsupportedClaim[] }> {
  const planJson = JSON.stringify(plan);
  const query = planQuery(prompt, plan);
  const groups = segmentFiles(full.contextPieces, segmentCount(full.tokenTotal));
  const partBudget = Math.min(SEGMENT_TOKENS, Math.max(PLAN_BUDGET, Math.floor(budget / Math.max(1, groups.length))));
  const proposals: ProposedChange[] = [];
  for (const [i, files] of groups.entries()) {
    const pass = `segment ${i + 1}`;
    const instruction = segmentInstruction(prompt, planJson, i + 1, groups.length, files);
    const fit = await fitPrompt(ctx, { pass, query, instruction, budget: partBudget, hotPaths: files, maxTokens: CHANGE_MAX_TOKENS, exclusiveHotPaths: true });
    sent.add(fit.context.contextPieces);
    proposals.push(await askPass(ctx, pass, fit, ProposedChange, CHANGE_MAX_TOKENS));
  }
  const changed = [...new Set(proposals.flatMap((p) => p.files.map((f) => f.path)))];
  const instruction = crossCheckInstruction(prompt, planJson, proposals);
  const fit = await fitPrompt(ctx, {
    pass: "cross-check",
    query,
    instruction,
    budget: budgetFor(instruction, SEGMENT_TOKENS, budget),
    hotPaths: changed,
    maxTokens: CHANGE_MAX_TOKENS,
    exclusiveHotPaths: true,
  });
  sent.add(fit.context.contextPieces);
  // The parts' claims are checked once merged: the cross-check's answer is the change.
  return askSourced(ctx, "cross-check", fit, ProposedChange, CHANGE_MAX_TOKENS, { sent, claimsOf: changeClaims });
}
