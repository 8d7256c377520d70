/** Ingestion jobs and chunk reads: responses of /api/jobs/:id and /api/chunks/:id. */
import { z } from "zod";
import { IsoTime } from "./common";
import { JOB_STATUSES, SecretFinding } from "./projects";

export const JobView = z
  .object({
    jobId: z.string(),
    projectId: z.string(),
    source: z.enum(["upload", "webhook", "conversation", "log", "delete"]),
    status: z.enum(JOB_STATUSES),
    files: z.object({ total: z.number(), done: z.number(), skipped: z.number(), unchanged: z.number(), ignored: z.number(), removed: z.number() }),
    outcomes: z.object({ text: z.number(), decoded: z.number(), binary: z.number(), link: z.number(), skipped: z.record(z.string(), z.number()) }),
    skipped: z.array(z.object({ path: z.string(), reason: z.string(), detail: z.string().optional() })),
    chunks: z.number(),
    chunksWritten: z.number(),
    tokens: z.number(),
    errors: z.array(z.object({ path: z.string().optional(), message: z.string() })),
    batches: z.object({ total: z.number(), done: z.number(), failed: z.number() }),
    attempts: z.number(),
    requeues: z.number(),
    stalledSince: IsoTime.nullable(),
    createdAt: IsoTime,
    finishedAt: IsoTime.nullable(),
  })
  .meta({ id: "Job" });

const ChunkFields = z.object({
  chunkId: z.string(),
  projectId: z.string(),
  path: z.string(),
  ordinal: z.number(),
  startLine: z.number(),
  endLine: z.number(),
  byteOffset: z.number(),
  byteLength: z.number(),
  tokenCount: z.number(),
  sha256: z.string(),
  type: z.string(),
  severity: z.string().nullable(),
  encoding: z.string().nullable(),
  createdAt: IsoTime,
  text: z.string(),
});

/** A live chunk, or a superseded one with the path's current version. */
export const ChunkView = z
  .discriminatedUnion("superseded", [
    ChunkFields.extend({ superseded: z.literal(false), secrets: z.array(SecretFinding) }),
    ChunkFields.extend({
      superseded: z.literal(true),
      retiredAt: IsoTime,
      current: z.object({ path: z.string(), chunkIds: z.array(z.string()), sha256: z.string() }).nullable(),
    }),
  ])
  .meta({ id: "Chunk" });
