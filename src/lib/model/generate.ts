/**
 * Multi-pass generation (spec: plan, expand, verify). Plan: the project summary and the top chunks,
 * answered as a JSON plan. Expand: the plan with the large context, answered as files/diff with the
 * chunk ids behind each claim. Verify: the change runs in the sandbox, with repair passes on failure
 * (`verify-repair.ts`). Every prompt is fitted by the API's count first (`fit-prompt.ts`); answers are
 * validated with zod, with one repair call (`json-answer.ts`); when the long-context expand call fails
 * for size or availability, the change is generated in segments and cross-checked (`segmented.ts`).
 * Prompt texts are in `prompts.ts`.
 */
import type { AssembleResult } from "../assembly/assemble";
import { AppError } from "../errors";
import { failureKind } from "./anthropic-adapter";
import { askSourced, type ClaimsCheck, claimsCheck, type UnsupportedClaim } from "./assert-sources";
import { changeClaims, planClaims, SentSources, unknownCitations } from "./citations";
import { fitPrompt, type PassContext } from "./fit-prompt";
import type { Assembler, GenerationEvent, Model, Verification, Verifier } from "./generation-types";
import { budgetFor, CHANGE_MAX_TOKENS, PLAN_BUDGET, PLAN_MAX_TOKENS } from "./limits";
import { DRY_RUN_PLAN, expandInstruction, planInstruction, planQuery } from "./prompts";
import { Plan, ProposedChange } from "./schemas";
import { generateSegmented, segmentCount } from "./segmented";
import { verifyAndRepair } from "./verify-repair";

// The module's former exports, for callers that import them from here.
export { SentSources, unknownCitations } from "./citations";
export type { AssembleOptions, Assembler, GenerationEvent, Model, Verifier } from "./generation-types";
export { askJson } from "./json-answer";
export { CHANGE_MAX_TOKENS, MAX_REPAIRS, MAX_SEGMENTS, PLAN_BUDGET, PLAN_MAX_TOKENS, SEGMENT_TOKENS } from "./limits";
export { Plan, ProposedChange } from "./schemas";
export { segmentCount, segmentFiles } from "./segmented";

/** The prompt of each pass without calling the model: what dryRun returns. */
export async function passPrompts(assemble: Assembler, prompt: string, budget: number, hotPaths: string[]) {
  const plan = await assemble(prompt, budgetFor(planInstruction(prompt), PLAN_BUDGET, budget), hotPaths, { instruction: planInstruction(prompt) });
  const expand = await assemble(prompt, budget, hotPaths, { instruction: expandInstruction(prompt, DRY_RUN_PLAN) });
  return { plan, expand };
}

export type GenerateResult = {
  plan: Plan;
  change: ProposedChange;
  expandContext: AssembleResult;
  verification: Verification[];
  repairs: number;
  segmented: boolean;
  warnings: string[];
  /** The assert stage's outcome for the final plan and change. */
  claims: ClaimsCheck;
};

export async function generate(
  deps: { model: Model; assemble: Assembler; verify?: Verifier; emit?: (e: GenerationEvent) => void },
  prompt: string,
  budget: number,
  hotPaths: string[],
): Promise<GenerateResult> {
  const ctx: PassContext = {
    model: deps.model,
    assemble: deps.assemble,
    emit: deps.emit ?? (() => undefined),
    warnings: [],
    ratio: 1,
  };
  const planFit = await fitPrompt(ctx, {
    pass: "plan",
    query: prompt,
    instruction: planInstruction(prompt),
    budget: budgetFor(planInstruction(prompt), PLAN_BUDGET, budget),
    hotPaths,
    maxTokens: PLAN_MAX_TOKENS,
  });
  const sent = new SentSources();
  sent.add(planFit.context.contextPieces);
  const planned = await askSourced(ctx, "plan", planFit, Plan, PLAN_MAX_TOKENS, { sent, claimsOf: planClaims });
  const plan = planned.answer;
  ctx.emit({ type: "plan", plan });
  const expandFit = await fitPrompt(ctx, {
    pass: "expand",
    query: planQuery(prompt, plan),
    instruction: expandInstruction(prompt, JSON.stringify(plan)),
    budget,
    hotPaths: [...new Set([...hotPaths, ...plan.steps.flatMap((s) => s.files)])],
    maxTokens: CHANGE_MAX_TOKENS,
  });
  sent.add(expandFit.context.contextPieces);
  let change: ProposedChange;
  let changeUnsupported: UnsupportedClaim[];
  let isSegmented = false;
  try {
    ({ answer: change, unsupported: changeUnsupported } = await askSourced(ctx, "expand", expandFit, ProposedChange, CHANGE_MAX_TOKENS, {
      sent,
      claimsOf: changeClaims,
    }));
  } catch (err) {
    const kind = failureKind(err);
    if (!kind) throw err;
    const reason = `the long-context expand call failed (${kind}: ${err instanceof Error ? err.message : String(err)})`;
    ctx.warnings.push(`${reason}; the change was generated in segments and cross-checked`);
    ctx.emit({ type: "fallback", reason, segments: segmentCount(expandFit.context.tokenTotal) });
    ({ answer: change, unsupported: changeUnsupported } = await generateSegmented(ctx, prompt, plan, expandFit.context, budget, sent).catch((e: unknown) => {
      throw failureKind(e)
        ? new AppError(503, "model_unavailable", `${reason}, and the segmented fallback failed too (${e instanceof Error ? e.message : String(e)})`)
        : e;
    }));
    isSegmented = true;
  }
  ctx.warnings.push(...expandFit.context.warnings, ...unknownCitations(change, sent));
  const verified = deps.verify
    ? await verifyAndRepair(ctx, deps.verify, { prompt, budget, change, sent, unsupported: changeUnsupported })
    : { change, verification: [], repairs: 0, unsupported: changeUnsupported };
  return {
    plan,
    change: verified.change,
    expandContext: expandFit.context,
    verification: verified.verification,
    repairs: verified.repairs,
    segmented: isSegmented,
    warnings: ctx.warnings,
    claims: claimsCheck([...planned.unsupported, ...verified.unsupported]),
  };
}
