/**
 * Ingests an archive without ever holding it whole: a tar or tar.gz is read as a stream, a zip (whose
 * directory sits at its end) through range reads of an R2 object. Both paths end in `stageUpload`.
 */
import { type ArchiveFormat, type ArchiveLimits, DEFAULT_ARCHIVE_LIMITS, readArchive } from "../archive";
import { r2File } from "../archive/r2-file";
import { AppError } from "../errors";
import { entryReadLimit, type StageDeps, type StageResult, stageUpload } from "../ingest";

export type UploadProject = { projectId: string; orgId: string; maxFileBytes: number };

/** Where a temporary upload object of a project lives (a direct zip body, or a multipart upload). */
export function uploadKey(projectId: string, uploadId: string): string {
  return `uploads/${projectId}/${uploadId}`;
}

// Entries are read up to the larger of the project's text limit and the bytes kept of a binary file; staging applies each.
const limitsFor = (project: UploadProject): ArchiveLimits => ({ ...DEFAULT_ARCHIVE_LIMITS, maxFileBytes: entryReadLimit(project.maxFileBytes) });

/** Stages the archive read from `body` (tar or tar.gz), refusing more than `maxBytes` of it. */
export function ingestArchiveStream(
  deps: StageDeps,
  project: UploadProject,
  format: Exclude<ArchiveFormat, "zip">,
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<StageResult> {
  const stream = body.pipeThrough(boundedBody(maxBytes));
  return stageUpload(deps, project, readArchive({ format, stream }, limitsFor(project)));
}

/** Stages the archive stored at `key` in the bucket; the object is left for the caller to delete. */
export async function ingestStoredArchive(deps: StageDeps, project: UploadProject, format: ArchiveFormat, key: string): Promise<StageResult> {
  const head = await deps.bucket.head(key);
  if (!head || head.size === 0) throw new AppError(400, "empty_upload", "the upload is empty");
  if (format === "zip") return stageUpload(deps, project, readArchive({ format, file: r2File(deps.bucket, key, head.size) }, limitsFor(project)));
  const obj = await deps.bucket.get(key);
  if (!obj) throw new AppError(400, "empty_upload", "the upload is empty");
  return stageUpload(deps, project, readArchive({ format, stream: obj.body }, limitsFor(project)));
}

/** Passes bytes through, failing past `maxBytes` and on an empty body. */
export function boundedBody(maxBytes: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > maxBytes)
        throw new AppError(413, "upload_too_large", `uploads are limited to ${maxBytes} bytes; use a multipart upload (POST /api/projects/:id/uploads)`);
      controller.enqueue(chunk);
    },
    flush() {
      if (seen === 0) throw new AppError(400, "empty_upload", "the request body is empty");
    },
  });
}
