/** Push webhooks: what a verified delivery is answered. */
import { z } from "zod";

export const WebhookAnswer = z.union([
  z.object({ ok: z.literal(true), event: z.string() }).describe("a ping"),
  z.object({ ignored: z.string() }).describe("a delivery with nothing to do, and why"),
  z
    .object({
      jobs: z.array(z.object({ projectId: z.string(), jobId: z.string() })),
      skipped: z.array(z.object({ projectId: z.string(), reason: z.string() })),
    })
    .describe("a push: the ingestion job it started, or why it was skipped"),
]);
