/** The ports generation runs through (model, assembler, verifier) and the events a run reports. */
import type { AssembleResult, PieceRef } from "../assembly/assemble";
import type { Change } from "../sandbox/apply-change";
import type { CheckedStatus } from "../sandbox/run-status";
import type { CommandResult, RunEvent } from "../sandbox/sandbox";
import type { CallOptions, ChatMessage, Completion, Usage } from "./anthropic-adapter";
import type { Plan } from "./schemas";

export type Model = {
  complete(system: string, messages: ChatMessage[], opts: CallOptions): Promise<Completion>;
  countTokens(system: string, messages: ChatMessage[], longContext?: boolean): Promise<number>;
  inputLimit(maxTokens: number): number;
  cost(usage: Usage): number;
};
/**
 * Assembles a context: `query` drives retrieval; `instruction` (default: the query) is the prompt's
 * instruction section; `exclusiveHotPaths` keeps a session from adding its own hot paths (segment,
 * cross-check and repair passes focus on their files).
 */
export type AssembleOptions = { instruction?: string; exclusiveHotPaths?: boolean };
export type Assembler = (query: string, budget: number, hotPaths: string[], opts?: AssembleOptions) => Promise<AssembleResult>;
export type Verifier = (change: Change, onEvent: (e: RunEvent) => void) => Promise<{ runId: string; status: CheckedStatus; results: CommandResult[] }>;
export type Verification = Awaited<ReturnType<Verifier>>;

/** What a run reports as it goes: the session streams these to its WebSocket clients. */
export type GenerationEvent =
  | {
      type: "context";
      pass: string;
      tokenTotal: number;
      tokenBudget: number;
      pieces: PieceRef[];
    }
  | { type: "trimmed"; pass: string; counted: number; limit: number; budget: number }
  | { type: "plan"; plan: Plan }
  | { type: "tokens"; pass: string; text: string }
  | {
      type: "call";
      pass: string;
      inputTokens: number;
      outputTokens: number;
      longContext: boolean;
      costUsd: number;
      promptSha256: string;
      chunks: string[];
      at: string;
    }
  | { type: "sandbox"; attempt: number; event: RunEvent }
  | { type: "verified"; attempt: number; runId: string; status: string }
  | { type: "repair"; attempt: number; failing: string }
  | { type: "fallback"; reason: string; segments: number }
  | { type: "sources"; pass: string; unsupported: string[] };
