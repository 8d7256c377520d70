/** Shapes every route shares: the one error envelope, timestamps and cursor pages. */
import { z } from "zod";

export const ErrorIssue = z.object({ path: z.string(), message: z.string() });

/** The one error envelope: HTTP bodies, NDJSON lines and WebSocket frames all carry `{ error }`. */
export const ErrorEnvelope = z
  .object({
    error: z.object({
      code: z.string().describe("stable machine-readable code, e.g. not_found, quota_exceeded"),
      message: z.string().describe("for humans"),
      issues: z.array(ErrorIssue).optional().describe("one entry per invalid field of a 400"),
      requestId: z.string().optional(),
    }),
  })
  .meta({ id: "ErrorEnvelope" });

export const IsoTime = z.string().describe("ISO 8601 UTC timestamp");
export const NextCursor = z.string().nullable().describe("pass as `cursor` for the next page; null on the last page");
