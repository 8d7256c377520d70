/**
 * countTokens(text, model): token counts with the target model's tokenizer.
 *
 * OpenAI-family models and the encoding names themselves are counted exactly with tiktoken's
 * o200k_base / cl100k_base. Claude's tokenizer is not public, so for Claude models the count is
 * a calibrated estimate: cl100k_base tokens times CLAUDE_TOKEN_FACTOR, rounded up. Anthropic's
 * own guidance is that tiktoken undercounts Claude by ~15-20% on prose and more on code, and the
 * newest Claude tokenizers use up to ~35% more tokens than earlier ones; 1.35 covers both with
 * margin, so budgets computed with it err on the safe side. The model adapter re-checks real
 * prompts with the Messages API's token counting before each call.
 */
import { AppError } from "../errors";
import { type EncodingName, getEncoding } from "./encoding";

export const CLAUDE_TOKEN_FACTOR = 1.35;

export type Tokenizer = EncodingName | "claude";

export const TOKENIZERS: readonly Tokenizer[] = ["claude", "o200k_base", "cl100k_base"];

/** Which tokenizer counts for `model` (a model id or an encoding name). */
export function tokenizerFor(model: string): Tokenizer {
  const m = model.trim().toLowerCase();
  if (m === "o200k_base" || m === "cl100k_base" || m === "claude") return m;
  if (m.startsWith("claude")) return "claude";
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4|chatgpt-4o)/.test(m)) return "o200k_base";
  if (/^(gpt-4|gpt-3\.5|text-embedding-3|text-embedding-ada-002)/.test(m)) return "cl100k_base";
  throw new AppError(400, "unknown_model", `no tokenizer is known for model "${model}"`);
}

/** Tokens `text` takes for `model` (see the module note for Claude). */
export function countTokens(text: string, model: string): number {
  return countWith(tokenizerFor(model), text);
}

export function countWith(tokenizer: Tokenizer, text: string): number {
  if (tokenizer === "claude") return scaleToClaude(getEncoding("cl100k_base").count(text));
  return getEncoding(tokenizer).count(text);
}

export function scaleToClaude(cl100kTokens: number): number {
  return Math.ceil(cl100kTokens * CLAUDE_TOKEN_FACTOR);
}

/** The exact encoding a tokenizer is built on. */
export function baseEncoding(tokenizer: Tokenizer): EncodingName {
  return tokenizer === "claude" ? "cl100k_base" : tokenizer;
}
