/** Generation: requests and responses of /api/ai/generate-prototype and its feedback. */
import { z } from "zod";
import { GeneratePrototype } from "../model/run-generation";
import { IsoTime } from "./common";
import { ClaimsCheck } from "./generations";

export { GeneratePrototype };

export const Feedback = z.object({ approved: z.boolean(), note: z.string().max(2000).optional() });

const ContextMeta = z.object({
  tokenBudget: z.number(),
  tokensUsedForContext: z.number(),
  chunksUsed: z.array(z.string()),
  summariesUsed: z.array(z.string()),
});

export const GenerationDryRun = z.object({
  dryRun: z.literal(true),
  model: z.string(),
  prompts: z.object({ plan: z.string().optional(), expand: z.string().optional() }),
  contextMeta: ContextMeta,
});

export const Generation = z
  .object({
    id: z.string(),
    sessionId: z.string().optional(),
    plan: z.object({
      summary: z.string(),
      steps: z.array(z.object({ description: z.string(), files: z.array(z.string()), sources: z.array(z.string()) })),
    }),
    contextMeta: ContextMeta,
    diffs: z.array(z.union([z.object({ path: z.string(), content: z.string() }), z.object({ diff: z.string() })])),
    sources: z.array(z.object({ claim: z.string(), chunkIds: z.array(z.string()) })),
    verification: z.array(z.object({ runId: z.string(), status: z.string() })),
    repairs: z.number(),
    segmented: z.boolean(),
    usage: z.object({ inputTokens: z.number(), outputTokens: z.number(), costUsd: z.number() }),
    warnings: z.array(z.string()),
    claims: ClaimsCheck,
  })
  .meta({ id: "Generation" });

export const GenerationResponse = z.union([GenerationDryRun, Generation]);

export const FeedbackRecorded = z.object({ id: z.string(), approved: z.boolean(), note: z.string().nullable(), at: IsoTime, paths: z.array(z.string()) });
