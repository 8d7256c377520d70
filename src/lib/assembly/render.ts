/** Render: the packed and filled pieces as the prompt (text or held-aware blocks) and as the result's piece list. */
import type { SummaryEntry } from "./fill";
import type { Snippet } from "./pack";
import { contextPiece, summaryPiece } from "./pieces";
import { blockKey, type ConversationMessage, type PromptBlock, type RenderPiece, renderBlocks } from "./prompt";
import type { ContextPiece, Summary } from "./types";

export type RenderInput = {
  projectSummary: Summary | undefined;
  snippets: Snippet[];
  summaries: SummaryEntry[];
  conversation: ConversationMessage[];
  instruction: string;
  /** Keys of blocks the caller holds: with them the prompt comes back as blocks, held ones without text. */
  cachedKeys: string[] | undefined;
};

/**
 * The prompt: `contextText` without held keys, else `blocks`. A snippet loaded without its text is one
 * whose whole block the caller held; `textOf` reads it when its rendered key is not held after all.
 */
export function renderContext(input: RenderInput, textOf: (p: RenderPiece) => string): { contextText?: string; blocks?: PromptBlock[] } {
  const held = new Set(input.cachedKeys ?? []);
  const rendered = renderBlocks({
    projectSummary: input.projectSummary ? summaryPiece(input.projectSummary) : undefined,
    snippets: input.snippets.map((s) => (s.textless && !held.has(blockKey(s.piece)) ? { ...s.piece, text: textOf(s.piece) } : s.piece)),
    summaries: input.summaries.map((s) => s.piece),
    conversation: input.conversation,
    instruction: input.instruction,
  });
  if (input.cachedKeys) return { blocks: rendered.map((b) => (b.key && held.has(b.key) ? { key: b.key, text: "" } : b)) };
  return { contextText: rendered.map((b) => b.text).join("") };
}

/** The result's pieces in prompt order: project summary, snippets, summaries. */
export function contextPieces(projectSummary: Summary | undefined, snippets: Snippet[], summaries: SummaryEntry[]): ContextPiece[] {
  const out: ContextPiece[] = [];
  if (projectSummary) out.push(contextPiece(summaryPiece(projectSummary), projectSummary.tokens, 0, ["summary fill"]));
  for (const s of snippets) out.push(contextPiece(s.piece, s.tokens, s.score, s.reasons));
  for (const s of summaries) out.push(contextPiece(s.piece, s.tokens, s.score, ["summary fill"]));
  return out;
}
