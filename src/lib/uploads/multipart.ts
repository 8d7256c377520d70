/**
 * Large uploads through an R2 multipart upload: the API starts it, takes its parts (each a request body
 * under the Worker's limit), and completes it into the same job pipeline as a direct upload.
 */
import { and, eq, sql } from "drizzle-orm";
import type { ArchiveFormat } from "../archive";
import { newId } from "../crypto/hash";
import { AppError, notFound } from "../errors";
import type { StageDeps } from "../ingest";
import { type Db, tables } from "../storage";
import { ingestStoredArchive, type UploadProject, uploadKey } from "./ingest-archive";

// R2 takes parts of 5 MiB to 5 GiB, all but the last of one size, at most 10,000 of them; 16 MiB parts
// keep each request far below the Worker's 100 MB body limit and a 1 GiB archive at 64 parts.
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const PART_BYTES = 16 * 1024 * 1024;
export const MAX_PART_BYTES = 95 * 1024 * 1024;
export const MAX_PARTS = 10_000;
// An archive that unpacks within the 512 MiB cap never needs more than this compressed.
export const MAX_UPLOAD_TOTAL_BYTES = 1024 * 1024 * 1024;

export type UploadRow = typeof tables.uploads.$inferSelect;

export async function startUpload(db: Db, bucket: R2Bucket, project: UploadProject, format: ArchiveFormat) {
  const uploadId = newId("upl");
  const key = uploadKey(project.projectId, uploadId);
  const mpu = await bucket.createMultipartUpload(key);
  await db.insert(tables.uploads).values({
    uploadId,
    projectId: project.projectId,
    orgId: project.orgId,
    r2Key: key,
    r2UploadId: mpu.uploadId,
    format,
    status: "open",
  });
  return { uploadId, format, partBytes: PART_BYTES, minPartBytes: MIN_PART_BYTES, maxPartBytes: MAX_PART_BYTES, maxParts: MAX_PARTS };
}

export async function getUpload(db: Db, project: UploadProject, uploadId: string): Promise<UploadRow> {
  const row = await db
    .select()
    .from(tables.uploads)
    .where(and(eq(tables.uploads.uploadId, uploadId), eq(tables.uploads.projectId, project.projectId), eq(tables.uploads.orgId, project.orgId)))
    .get();
  if (!row) throw notFound("upload");
  return row;
}

const requireOpen = (row: UploadRow): void => {
  if (row.status !== "open") throw new AppError(409, "upload_closed", `upload ${row.uploadId} is ${row.status}`);
};

/** Stores one part; the body must carry its length (R2 needs it) and stay within the part limits. */
export async function putPart(db: Db, bucket: R2Bucket, row: UploadRow, partNumber: number, body: ReadableStream<Uint8Array>, length: number) {
  requireOpen(row);
  if (length > MAX_PART_BYTES) throw new AppError(413, "part_too_large", `a part is at most ${MAX_PART_BYTES} bytes`);
  if (row.bytes + length > MAX_UPLOAD_TOTAL_BYTES) throw new AppError(413, "upload_too_large", `an upload is at most ${MAX_UPLOAD_TOTAL_BYTES} bytes`);
  const part = await bucket.resumeMultipartUpload(row.r2Key, row.r2UploadId).uploadPart(partNumber, body);
  await db
    .update(tables.uploads)
    .set({ bytes: sql`${tables.uploads.bytes} + ${length}`, updatedAt: Date.now() })
    .where(eq(tables.uploads.uploadId, row.uploadId));
  return { partNumber: part.partNumber, etag: part.etag };
}

/**
 * Completes the R2 upload and stages the archive into a job. Completing twice answers the same job; an
 * archive refused as a whole leaves nothing behind (the object is deleted, the upload marked aborted).
 */
export async function completeUpload(deps: StageDeps, project: UploadProject, row: UploadRow, parts: R2UploadedPart[]) {
  if (row.status === "completed" && row.jobId) return { jobId: row.jobId, alreadyCompleted: true };
  requireOpen(row);
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  try {
    await deps.bucket.resumeMultipartUpload(row.r2Key, row.r2UploadId).complete(sorted);
  } catch (e) {
    throw new AppError(400, "invalid_parts", `R2 refused the parts list: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    const result = await ingestStoredArchive(deps, project, row.format as ArchiveFormat, row.r2Key);
    await deps.db
      .update(tables.uploads)
      .set({ status: "completed", jobId: result.jobId, updatedAt: Date.now() })
      .where(eq(tables.uploads.uploadId, row.uploadId));
    return { jobId: result.jobId, files: result.filesTotal, batches: result.batches, status: result.waiting ? "waiting" : "queued", alreadyCompleted: false };
  } catch (e) {
    await deps.db.update(tables.uploads).set({ status: "aborted", updatedAt: Date.now() }).where(eq(tables.uploads.uploadId, row.uploadId));
    throw e;
  } finally {
    // The staged batches now hold what the job needs; the archive itself is not kept.
    await deps.bucket.delete(row.r2Key);
  }
}

export async function abortUpload(db: Db, bucket: R2Bucket, row: UploadRow): Promise<void> {
  if (row.status === "completed") throw new AppError(409, "upload_closed", `upload ${row.uploadId} is completed`);
  if (row.status === "open") await bucket.resumeMultipartUpload(row.r2Key, row.r2UploadId).abort();
  await db.update(tables.uploads).set({ status: "aborted", updatedAt: Date.now() }).where(eq(tables.uploads.uploadId, row.uploadId));
}
