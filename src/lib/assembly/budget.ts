/**
 * The token budget of one assembly. Budgeting runs in the base encoding's units: blocks add up exactly
 * there (see prompt.ts), and the model's count is derived once from the sum (for Claude, the calibrated scale).
 */
import { AppError } from "../errors";
import { baseEncoding, CLAUDE_TOKEN_FACTOR, getEncoding, scaleToClaude, type Tokenizer } from "../tokenizer";
import { conversationBlock, instructionBlock, responseFormatBlock, systemBlock } from "./prompt";
import type { AssembleRequest } from "./types";

/**
 * Headroom the spec reserves out of every budget (~2,000 tokens at 500k). It scales down with
 * smaller budgets (0.4%), so a 16k budget is not a quarter headroom.
 */
export const SAFETY_MARGIN = 2000;
export function safetyMargin(budget: number): number {
  return Math.min(SAFETY_MARGIN, Math.ceil(budget * 0.004));
}

/** Base-encoding tokens still free under `limit` model tokens. */
export function roomIn(limit: number, usedBase: number, tokenizer: Tokenizer): number {
  const free = tokenizer === "claude" ? Math.floor(limit / CLAUDE_TOKEN_FACTOR) - usedBase : limit - usedBase;
  return Math.max(0, free);
}

export class TokenBudget {
  /** Base-encoding tokens taken so far. */
  used = 0;
  /** Model tokens the prompt may take: the budget less the safety margin. */
  readonly limit: number;
  readonly base: (s: string) => number;

  constructor(
    readonly budget: number,
    readonly tokenizer: Tokenizer,
  ) {
    const enc = getEncoding(baseEncoding(tokenizer));
    this.base = (s) => enc.count(s);
    this.limit = budget - safetyMargin(budget);
  }

  /**
   * The budget of a request with its fixed blocks (system, conversation, instruction, response format)
   * taken; a request whose fixed blocks alone exceed it is refused.
   */
  static forRequest(req: AssembleRequest): TokenBudget {
    const b = new TokenBudget(req.budget, req.tokenizer);
    b.used =
      b.base(systemBlock()) +
      b.base(conversationBlock(req.conversation)) +
      b.base(instructionBlock(req.instruction ?? req.prompt)) +
      b.base(responseFormatBlock());
    if (b.toModel(b.used) > b.limit) {
      throw new AppError(
        400,
        "prompt_too_long",
        `the prompt and conversation take ${b.toModel(b.used)} tokens, more than the budget allows (${b.limit} after the ${b.budget - b.limit}-token safety margin)`,
      );
    }
    return b;
  }

  toModel(n: number): number {
    return this.tokenizer === "claude" ? scaleToClaude(n) : n;
  }

  /** A text's tokens in the model's tokenizer. */
  modelCount(s: string): number {
    return this.toModel(this.base(s));
  }

  fits(extra: number): boolean {
    return this.toModel(this.used + extra) <= this.limit;
  }

  take(cost: number): void {
    this.used += cost;
  }

  /** Base-encoding tokens still free once `header` more are taken. */
  roomAfter(header: number): number {
    return roomIn(this.limit, this.used + header, this.tokenizer);
  }

  /** The model tokens taken. */
  total(): number {
    return this.toModel(this.used);
  }
}
