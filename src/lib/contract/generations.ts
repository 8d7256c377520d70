/** The decision log: responses of GET /api/generations and GET /api/generations/:id. */
import { z } from "zod";
import { GenerationsQuery } from "../generations/decision-log";
import { IsoTime, NextCursor } from "./common";

export { GenerationsQuery };

const Usage = z.object({ inputTokens: z.number(), outputTokens: z.number(), costUsd: z.number() });
const ClaimsStatus = z.enum(["supported", "unsupported_claims"]);
export const UnsupportedClaim = z.object({ pass: z.string(), claim: z.string(), problem: z.string() });
export const ClaimsCheck = z
  .object({ status: ClaimsStatus, unsupported: z.array(UnsupportedClaim) })
  .describe("the assert stage: every claim of the plan and the change with a source that was in the prompt");

const GenerationFields = z.object({
  id: z.string(),
  projectId: z.string(),
  sessionId: z.string().nullable(),
  model: z.string(),
  vendor: z.string(),
  status: z.enum(["done", "failed"]),
  createdAt: IsoTime,
  usage: Usage,
});

export const GenerationSummary = GenerationFields.extend({
  calls: z.number().describe("model calls made"),
  claims: ClaimsStatus.nullable().describe("null: recorded before the assert stage, or the run failed"),
});

export const GenerationList = z.object({ generations: z.array(GenerationSummary), nextCursor: NextCursor });

export const GenerationRecord = GenerationFields.extend({
  calls: z.array(
    z.object({
      pass: z.string(),
      model: z.string(),
      vendor: z.string(),
      inputTokens: z.number(),
      outputTokens: z.number(),
      costUsd: z.number(),
      longContext: z.boolean(),
      promptSha256: z.string().describe("SHA-256 of exactly what was sent (system and messages, after redaction)"),
      chunks: z.array(z.string()),
      at: IsoTime,
    }),
  ),
  decisions: z.array(z.object({ kind: z.enum(["trim", "segmentation", "repair", "sources"]), pass: z.string().nullable(), reason: z.string() })),
  verification: z.array(z.object({ runId: z.string(), status: z.string() })),
  claims: ClaimsCheck.nullable(),
  repairs: z.number(),
  segmented: z.boolean(),
  warnings: z.array(z.string()),
  changedPaths: z.array(z.string()),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  feedback: z.object({ approved: z.boolean(), note: z.string().nullable(), at: IsoTime }).nullable(),
}).meta({ id: "GenerationRecord" });
