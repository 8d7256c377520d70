/** Fitting a pass's prompt to its limit by the API's own count, re-assembling with a smaller budget when it is over. */
import { type AssembleResult, pieceRefs } from "../assembly/assemble";
import { splitSystem } from "../assembly/prompt";
import { AppError } from "../errors";
import { STANDARD_WINDOW } from "./anthropic-adapter";
import type { Assembler, GenerationEvent, Model } from "./generation-types";

// Re-assembly attempts when the API counts a prompt over its limit.
const FIT_ATTEMPTS = 3;

/**
 * What the passes of one run share. `ratio`: how many tokens the API counts per token the local
 * estimate counts, learnt from this run's counts (the estimate is calibrated on older Claude tokenizers;
 * newer models count more for the same text), so later passes are assembled to fit at the first try.
 */
export type PassContext = { model: Model; assemble: Assembler; emit: (e: GenerationEvent) => void; warnings: string[]; ratio: number };

export type PassRequest = {
  pass: string;
  query: string;
  instruction: string;
  budget: number;
  hotPaths: string[];
  maxTokens: number;
  exclusiveHotPaths?: boolean;
};
export type FittedPrompt = { context: AssembleResult; counted: number; longContext: boolean };

/**
 * Assembles a pass's prompt and checks its size with the API's count. Over the limit (the budget, and
 * the model's window less the answer's room), it is assembled again with the budget scaled down by the
 * overshoot, which drops the lowest-priority pieces, and counted again. The budget a pass starts from
 * is the limit divided by the run's learnt count ratio.
 */
export async function fitPrompt(ctx: PassContext, p: PassRequest): Promise<FittedPrompt> {
  const { pass, maxTokens } = p;
  const limit = Math.min(p.budget, ctx.model.inputLimit(maxTokens));
  let tryBudget = Math.floor(limit / Math.max(1, ctx.ratio));
  for (let attempt = 0; ; attempt++) {
    const context = await ctx.assemble(p.query, tryBudget, p.hotPaths, {
      instruction: p.instruction,
      ...(p.exclusiveHotPaths ? { exclusiveHotPaths: true } : {}),
    });
    const { system, user } = splitSystem(context.contextText ?? "");
    const longContext = context.tokenTotal > STANDARD_WINDOW - maxTokens;
    const counted = await ctx.model.countTokens(system, [{ role: "user", content: user }], longContext);
    if (context.tokenTotal > 0) ctx.ratio = Math.max(ctx.ratio, counted / context.tokenTotal);
    if (counted <= limit) {
      ctx.emit({ type: "context", pass, tokenTotal: context.tokenTotal, tokenBudget: tryBudget, pieces: pieceRefs(context.contextPieces) });
      return { context, counted, longContext: longContext || counted > STANDARD_WINDOW - maxTokens };
    }
    ctx.emit({ type: "trimmed", pass, counted, limit, budget: tryBudget });
    if (attempt + 1 >= FIT_ATTEMPTS)
      throw new AppError(413, "prompt_too_long", `the ${pass} prompt still counts ${counted} tokens over the ${limit}-token limit after trimming`);
    const next = Math.floor(tryBudget * (limit / counted) * 0.97);
    ctx.warnings.push(
      `${pass}: the API counted ${counted} tokens, over the ${limit} limit; assembled again within ${next} tokens, dropping the lowest-priority pieces`,
    );
    tryBudget = next;
  }
}
