/**
 * Uploads of a tree: a direct archive body (streamed, never buffered whole), or for archives past the
 * request body limit an R2 multipart upload that is started, filled part by part and completed into a job.
 */
import { Hono } from "hono";
import { z } from "zod";
import { type ArchiveFormat, formatFor } from "../../../src/lib/archive";
import { newId } from "../../../src/lib/crypto/hash";
import { AppError } from "../../../src/lib/errors";
import { ingestDeps } from "../../../src/lib/ingest";
import { getProject } from "../../../src/lib/projects/projects";
import { openDb } from "../../../src/lib/storage";
import {
  abortUpload,
  completeUpload,
  getUpload,
  ingestArchiveStream,
  ingestStoredArchive,
  MAX_PART_BYTES,
  putPart,
  startUpload,
  uploadKey,
} from "../../../src/lib/uploads";
import { guardQuota } from "../metering";
import { need } from "../middleware/auth";
import type { AppEnv } from "../types";
import { jsonOf, parseWith } from "../validate";

// Direct uploads past this many bytes are refused (Workers accept 100 MB bodies on most plans); larger
// archives go through POST /projects/:id/uploads.
const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;

const Format = z.enum(["tar.gz", "tar", "zip"]);
export const StartUpload = z.object({ format: Format });
const PartNumber = z.coerce.number().int().min(1).max(10_000);
export const CompleteUpload = z.object({
  parts: z
    .array(z.object({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(200) }))
    .min(1)
    .max(10_000),
});

/** The body's declared length, required where R2 must know it before the bytes arrive. */
function declaredLength(header: string | undefined, max: number): number {
  if (header === undefined || !/^\d+$/.test(header)) throw new AppError(411, "length_required", "send a Content-Length header with this body");
  const n = Number(header);
  if (n === 0) throw new AppError(400, "empty_upload", "the request body is empty");
  if (n > max) throw new AppError(413, "upload_too_large", `this body is limited to ${max} bytes`);
  return n;
}

export const uploadRoutes = new Hono<AppEnv>()
  .post("/projects/:projectId/ingest", need("ingest"), async (c) => {
    const db = openDb(c.env.DB);
    const p = await getProject(db, c.req.param("projectId"), c.var.key);
    await guardQuota(c, "storage");
    const format: ArchiveFormat = formatFor(c.req.header("content-type"));
    const length = c.req.header("content-length");
    if (length !== undefined && Number(length) > MAX_UPLOAD_BYTES) {
      throw new AppError(413, "upload_too_large", `uploads are limited to ${MAX_UPLOAD_BYTES} bytes; use a multipart upload (POST /api/projects/:id/uploads)`);
    }
    const body = c.req.raw.body;
    if (body === null || length === "0") throw new AppError(400, "empty_upload", "the request body is empty");
    const deps = ingestDeps(c.env);
    let result: Awaited<ReturnType<typeof ingestArchiveStream>>;
    if (format === "zip") {
      // A zip's directory is at its end: the body goes to R2 first and is read back with range reads.
      declaredLength(length, MAX_UPLOAD_BYTES);
      const key = uploadKey(p.projectId, newId("upl"));
      await c.env.CHUNKS.put(key, body);
      try {
        result = await ingestStoredArchive(deps, p, format, key);
      } finally {
        await c.env.CHUNKS.delete(key);
      }
    } else {
      result = await ingestArchiveStream(deps, p, format, body, MAX_UPLOAD_BYTES);
    }
    // `waiting`: an earlier upload of the project is still being applied; this one follows it.
    return c.json({ jobId: result.jobId, files: result.filesTotal, batches: result.batches, status: result.waiting ? "waiting" : "queued" }, 202);
  })
  .post("/projects/:projectId/uploads", need("ingest"), jsonOf(StartUpload), async (c) => {
    const db = openDb(c.env.DB);
    const p = await getProject(db, c.req.param("projectId"), c.var.key);
    await guardQuota(c, "storage");
    const { format } = c.req.valid("json");
    return c.json(await startUpload(db, c.env.CHUNKS, p, format), 201);
  })
  .put("/projects/:projectId/uploads/:uploadId/parts/:partNumber", need("ingest"), async (c) => {
    const db = openDb(c.env.DB);
    const p = await getProject(db, c.req.param("projectId"), c.var.key);
    const row = await getUpload(db, p, c.req.param("uploadId"));
    const partNumber = parseWith(PartNumber, c.req.param("partNumber"), "part number");
    const length = declaredLength(c.req.header("content-length"), MAX_PART_BYTES);
    const body = c.req.raw.body;
    if (body === null) throw new AppError(400, "empty_upload", "the request body is empty");
    return c.json(await putPart(db, c.env.CHUNKS, row, partNumber, body, length));
  })
  .post("/projects/:projectId/uploads/:uploadId/complete", need("ingest"), jsonOf(CompleteUpload), async (c) => {
    const db = openDb(c.env.DB);
    const p = await getProject(db, c.req.param("projectId"), c.var.key);
    const row = await getUpload(db, p, c.req.param("uploadId"));
    const { parts } = c.req.valid("json");
    const result = await completeUpload(ingestDeps(c.env), p, row, parts);
    return c.json(result, result.alreadyCompleted ? 200 : 202);
  })
  .delete("/projects/:projectId/uploads/:uploadId", need("ingest"), async (c) => {
    const db = openDb(c.env.DB);
    const p = await getProject(db, c.req.param("projectId"), c.var.key);
    await abortUpload(db, c.env.CHUNKS, await getUpload(db, p, c.req.param("uploadId")));
    return c.body(null, 204);
  });
