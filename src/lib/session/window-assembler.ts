/**
 * Assembly through a session's hot window: the project's index leaves out the text of blocks the window
 * holds, the window fills them in, and the blocks used are recorded. The session's hot paths (unless
 * the pass asks for its own only) and its last messages join the request.
 */
import { type AssembleRequest, type AssembleResult, pieceRefs } from "../assembly/assemble";
import { type ErrorResult, unwrap } from "../errors";
import type { AssembleOptions } from "../model/generation-types";
import type { Tokenizer } from "../tokenizer";
import type { ConversationMemory } from "./conversation-memory";
import type { HotWindow } from "./hot-window";
import type { SessionStore } from "./session-store";

/** What the session needs of the project's index (`ProjectIndex` implements it). */
export type ContextShard = { assemble(req: AssembleRequest): Promise<AssembleResult | ErrorResult> };
export type SessionAssembleRequest = {
  prompt: string;
  budget: number;
  hotPaths: string[];
  tokenizer: Tokenizer;
  includeText: boolean;
  /** Quotas of the org at 80% or more when the request was let through: sent as a `quota` event. */
  quotaWarnings?: string[];
};
export type SessionAssembleResult = AssembleResult & { hotWindow: { reused: number; added: number } };
export type WindowAssembler = (query: string, budget: number, hotPaths: string[], opts?: AssembleOptions) => Promise<SessionAssembleResult>;

export function windowAssembler(shard: ContextShard, hot: HotWindow, memory: ConversationMemory, tokenizer: Tokenizer): WindowAssembler {
  return async (query, budget, hotPaths, opts = {}) => {
    const req = {
      prompt: query,
      budget,
      hotPaths: opts.exclusiveHotPaths ? hotPaths : [...new Set([...hotPaths, ...memory.hotPaths()])],
      tokenizer,
      conversation: memory.forPrompt(budget),
      includeText: true,
      ...(opts.instruction ? { instruction: opts.instruction } : {}),
    };
    let r = unwrap(await shard.assemble({ ...req, cachedKeys: hot.keys() }));
    let text = r.blocks ? hot.compose(r.blocks) : r.contextText;
    // A block that expired while the index was answering: ask again for every text.
    if (text === undefined) {
      r = unwrap(await shard.assemble({ ...req, cachedKeys: [] }));
      text = r.blocks ? hot.compose(r.blocks) : r.contextText;
    }
    const usage = hot.use(r.blocks ?? []);
    const { blocks: _blocks, ...rest } = r;
    // Chunks the index did not read have no preview: it comes from the window's copy.
    const contextPieces = rest.contextPieces.map((p) =>
      p.textPreview || p.kind !== "chunk" ? p : { ...p, textPreview: hot.preview(`${p.chunkId}:${p.startLine}-${p.endLine}`, p.textPreview) },
    );
    return { ...rest, contextPieces, contextText: text ?? "", hotWindow: usage };
  };
}

/** A session assembly: the window assembled, its paths remembered, a `context` event published; text only if asked. */
export async function assembleInSession(
  assemble: WindowAssembler,
  store: Pick<SessionStore, "memory">,
  req: SessionAssembleRequest,
  publish: (type: string, data: unknown) => void,
): Promise<SessionAssembleResult> {
  if (req.quotaWarnings?.length) publish("quota", { warnings: req.quotaWarnings });
  const result = await assemble(req.prompt, req.budget, req.hotPaths);
  store.memory.remember([], req.hotPaths);
  const { tokenTotal, tokenBudget, hotWindow } = result;
  publish("context", { tokenTotal, tokenBudget, hotWindow, pieces: pieceRefs(result.contextPieces) });
  if (req.includeText) return result;
  const { contextText: _text, ...withoutText } = result;
  return { ...withoutText, hotWindow };
}
