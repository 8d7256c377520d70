/**
 * The prompt's token count split by section (system, conversation, instruction, snippets, summaries) and
 * the safety margin, for the usage bar. Counts are kept in the base encoding, where blocks add up exactly,
 * and converted to model tokens cumulatively, so the sections always sum to the prompt's `tokenTotal`.
 */
import type { TokenBudget } from "./budget";
import { conversationBlock, instructionBlock, responseFormatBlock, systemBlock } from "./prompt";
import type { AssembleRequest } from "./types";

export const SECTION_NAMES = ["system", "conversation", "instruction", "snippets", "summaries"] as const;
export type SectionName = (typeof SECTION_NAMES)[number];
export type SectionTokens = Record<SectionName, number> & { safetyMargin: number };

/**
 * `summariesBase`: the base tokens of the project summary and the chunk summaries with their headers.
 * The snippets are the rest of what the budget took: every other block the assembler adds is a snippet.
 */
export function sectionTokens(budget: TokenBudget, req: AssembleRequest, summariesBase: number): SectionTokens {
  const system = budget.base(systemBlock());
  const conversation = budget.base(conversationBlock(req.conversation));
  // The response-format block is part of the instruction the user sees at the end of the prompt.
  const instruction = budget.base(instructionBlock(req.instruction ?? req.prompt)) + budget.base(responseFormatBlock());
  const snippets = budget.used - system - conversation - instruction - summariesBase;
  const base: Record<SectionName, number> = { system, conversation, instruction, snippets, summaries: summariesBase };
  const out = { safetyMargin: budget.budget - budget.limit } as SectionTokens;
  let cumulative = 0;
  for (const name of SECTION_NAMES) {
    const before = budget.toModel(cumulative);
    cumulative += base[name];
    out[name] = budget.toModel(cumulative) - before;
  }
  return out;
}
