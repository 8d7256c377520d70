/** Uploads of a tree: a direct archive body, or (for large archives) an R2 multipart upload completed into a job. */
import { Hono } from "hono";
import { DEFAULT_ARCHIVE_LIMITS, formatFor, readArchive } from "../../../src/lib/archive";
import { AppError } from "../../../src/lib/errors";
import { stageUpload } from "../../../src/lib/ingest";
import { getProject } from "../../../src/lib/projects/projects";
import { openDb } from "../../../src/lib/storage";
import type { AppEnv } from "../types";

// Uploads past this many bytes are refused before unpacking (Workers accept 100 MB bodies on most plans).
const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;

export const uploadRoutes = new Hono<AppEnv>().post("/projects/:projectId/ingest", async (c) => {
  const db = openDb(c.env.DB);
  const p = await getProject(db, c.req.param("projectId"), c.var.orgId);
  const format = formatFor(c.req.header("content-type"));
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_UPLOAD_BYTES) throw new AppError(413, "upload_too_large", `uploads are limited to ${MAX_UPLOAD_BYTES} bytes`);
  const body = new Uint8Array(await c.req.arrayBuffer());
  if (body.byteLength > MAX_UPLOAD_BYTES) throw new AppError(413, "upload_too_large", `uploads are limited to ${MAX_UPLOAD_BYTES} bytes`);
  const entries = readArchive(format, body, { ...DEFAULT_ARCHIVE_LIMITS, maxFileBytes: p.maxFileBytes });
  const result = await stageUpload({ db, bucket: c.env.CHUNKS, queue: c.env.INGEST_QUEUE }, p, entries);
  return c.json({ jobId: result.jobId, files: result.filesTotal, batches: result.batches }, 202);
});
