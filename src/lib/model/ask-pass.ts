/** Sending a fitted prompt for a JSON answer, with the pass's calls and streamed text reported as events. */
import type { z } from "zod";
import { splitSystem } from "../assembly/prompt";
import type { ChatMessage, Completion } from "./anthropic-adapter";
import type { FittedPrompt, PassContext } from "./fit-prompt";
import { askJson } from "./json-answer";

/** Sends a fitted context (and `followUp` turns after it) and reads a JSON answer; records the call's usage, chunks and time. */
export async function askPass<S extends z.ZodType>(
  ctx: PassContext,
  pass: string,
  fit: FittedPrompt,
  schema: S,
  maxTokens: number,
  followUp: ChatMessage[] = [],
): Promise<z.infer<S>> {
  const { system, user } = splitSystem(fit.context.contextText ?? "");
  const chunks = fit.context.contextPieces.map((p) => p.chunkId);
  // Each call is reported as soon as it returns, so a pass that fails later still accounts for it.
  const onCall = (c: Completion): void =>
    ctx.emit({
      type: "call",
      pass,
      inputTokens: c.usage.inputTokens,
      outputTokens: c.usage.outputTokens,
      longContext: c.longContext,
      costUsd: ctx.model.cost(c.usage),
      promptSha256: c.promptSha256,
      chunks,
      at: new Date().toISOString(),
    });
  return askJson(
    ctx.model,
    system,
    [{ role: "user", content: user }, ...followUp],
    schema,
    { maxTokens, longContext: fit.longContext, onText: (text) => ctx.emit({ type: "tokens", pass, text }) },
    onCall,
  );
}
