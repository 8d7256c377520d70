/** Context assembly: the request of /api/context/assemble (and a session's) and the assembled context. */
import { z } from "zod";
import { RERANK_MAX_K, RERANK_STATUSES } from "../assembly/rerank";
import { DEFAULT_MODEL } from "../model/default-model";

/** A context budget as requests give it: tokens within `min`-1,000,000, or "max" (the org's or project's limit). */
export const budgetField = (min: number, fallback: number) =>
  z
    .union([z.number().int().min(min).max(1_000_000), z.literal("max")])
    .optional()
    .describe(`tokens, or "max" for the org's or project's limit; default ${fallback}, capped to that limit; above it: 400 budget_over_limit`);

/** The default budget of an assembly. */
export const ASSEMBLE_BUDGET = 500_000;

/** The fields of an assembly request, with or without a session. */
export const AssembleFields = z.object({
  prompt: z.string().trim().min(1, "the prompt is empty").max(200_000, "the prompt is over 200,000 characters"),
  budget: budgetField(4096, ASSEMBLE_BUDGET),
  hotPaths: z.array(z.string().min(1).max(1024)).max(500).default([]),
  model: z.string().min(1).max(128).default(DEFAULT_MODEL),
  includeText: z.boolean().default(false),
});

export const Assemble = AssembleFields.extend({
  projectId: z.string().min(1).max(64),
  rerank: z
    .boolean()
    .optional()
    .describe(
      "rerank the top candidate files with a small model (paths and summaries only); default: the org's setting. Refused in compliance mode (403); any failure falls back to the unreranked order",
    ),
  rerankTopK: z.number().int().min(2).max(RERANK_MAX_K).default(20).describe("candidate files the rerank sees"),
  // The spec's prompt carries the last 10 messages of the conversation.
  conversation: z
    .array(z.object({ role: z.string().min(1).max(32), content: z.string().max(100_000) }))
    .max(10)
    .default([]),
});

export const PIECE_KINDS = ["chunk", "file-summary", "dir-summary", "project-summary", "conversation"] as const;

export const ContextPiece = z
  .object({
    chunkId: z.string(),
    kind: z.enum(PIECE_KINDS),
    tokenCount: z.number(),
    textPreview: z.string(),
    sourcePath: z.string(),
    startLine: z.number(),
    endLine: z.number(),
    score: z.number(),
    reasons: z.array(z.string()).describe("the signals that ranked it: mentioned path, lexical match, vector match, …"),
  })
  .meta({ id: "ContextPiece" });

export const AssembledContext = z.object({
  contextPieces: z.array(ContextPiece),
  tokenTotal: z.number(),
  tokenBudget: z.number(),
  utilization: z.number(),
  sections: z
    .object({
      system: z.number(),
      conversation: z.number(),
      instruction: z.number().describe("the user's instruction and the response-format block"),
      snippets: z.number(),
      summaries: z.number().describe("the project summary and the chunk summaries"),
      safetyMargin: z.number().describe("held out of the budget, not part of tokenTotal"),
    })
    .describe("model tokens per prompt section; system + conversation + instruction + snippets + summaries = tokenTotal"),
  timings: z.record(z.string(), z.number()).describe("milliseconds per stage"),
  warnings: z.array(z.string()),
  contextText: z.string().optional().describe("with includeText: the assembled prompt, each piece under its ---source line"),
  rerank: z
    .object({
      status: z
        .enum(RERANK_STATUSES)
        .describe("applied; or why the unreranked order was used: failed, timeout, invalid (answer refused), unavailable (no key), skipped"),
      model: z.string(),
      candidates: z.number(),
      order: z.array(z.string()).optional().describe("the candidate files in the model's order, best first"),
      reason: z.string().optional(),
      inputTokens: z.number(),
      outputTokens: z.number(),
      costUsd: z.number(),
    })
    .optional()
    .describe("what the rerank did, when one was asked for (request or org setting)"),
  blocks: z.array(z.object({ key: z.string().optional(), text: z.string() })).optional(),
});

export const AssembleResponse = AssembledContext.extend({ callId: z.string(), model: z.string() }).meta({ id: "AssembledContext" });
