/** The token budgets and bounds of the generation passes. */
export const PLAN_BUDGET = 16_000;
// Repair passes after a failing verification.
export const MAX_REPAIRS = 2;
// Answer room per pass.
export const PLAN_MAX_TOKENS = 8_000;
export const CHANGE_MAX_TOKENS = 32_000;
// Segmented fallback: parts of at most this many tokens, between 2 and MAX_SEGMENTS of them.
export const SEGMENT_TOKENS = 100_000;
export const MAX_SEGMENTS = 4;

/**
 * A pass's budget: `context` tokens of sources on top of its instruction (about 3 characters a token, to
 * err high), within the request's budget.
 */
export function budgetFor(instruction: string, context: number, budget: number): number {
  return Math.min(budget, context + Math.ceil(instruction.length / 3));
}
