/**
 * Sends an archive to a project: one streamed request when it is small, an R2 multipart upload (parts
 * of the size the server names) past the threshold, reporting the bytes sent as it goes. The archive is
 * a Blob (a browser's File, or Node's `fs.openAsBlob`), so nothing here needs Node.
 */
import { type Http, withRetries } from "./http";
import type { CompletedUpload, IngestAccepted, StartedUpload, UploadedPart } from "./responses";

export type Progress = (sent: number, total: number) => void;
export type ArchiveFormat = "tar.gz" | "tar" | "zip";

// Below this an archive goes in one request; the Worker's body limit is 100 MB on most plans.
export const MULTIPART_THRESHOLD = 64 * 1024 * 1024;

const CONTENT_TYPES: Record<ArchiveFormat, string> = { "tar.gz": "application/gzip", tar: "application/x-tar", zip: "application/zip" };

export type UploadOptions = {
  format?: ArchiveFormat;
  threshold?: number | undefined;
  onProgress?: Progress;
  /**
   * Stream the one-request body (the default) so progress is reported as it is read. Browsers stream
   * request bodies only over HTTP/2, so a page served over HTTP/1.1 (wrangler dev) sends the Blob as it is.
   */
  stream?: boolean;
};

/** The blob's bytes as a stream that reports how many have been read. */
function counted(blob: Blob, progress: Progress): ReadableStream<Uint8Array> {
  let sent = 0;
  return (blob.stream() as ReadableStream<Uint8Array>).pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sent += chunk.byteLength;
        progress(sent, blob.size);
        controller.enqueue(chunk);
      },
    }),
  );
}

/** POST /api/projects/:id/ingest with the whole archive in one body (streamed, retried when it never arrived). */
export function ingestDirect(http: Http, projectId: string, archive: Blob, opts: UploadOptions = {}): Promise<IngestAccepted> {
  const format = opts.format ?? "tar.gz";
  const progress = opts.onProgress ?? (() => undefined);
  const path = `/api/projects/${encodeURIComponent(projectId)}/ingest`;
  if (opts.stream === false) {
    return withRetries(() => http.json<IngestAccepted>(path, { method: "POST", headers: { "content-type": CONTENT_TYPES[format] }, body: archive })).then(
      (accepted) => {
        progress(archive.size, archive.size);
        return accepted;
      },
    );
  }
  return withRetries(() =>
    http.json<IngestAccepted>(path, {
      method: "POST",
      headers: { "content-type": CONTENT_TYPES[format], "content-length": String(archive.size) },
      body: counted(archive, progress),
    }),
  );
}

/** The multipart steps one by one: start, put each part, complete, or abort. */
export function multipartSteps(http: Http, projectId: string) {
  const base = `/api/projects/${encodeURIComponent(projectId)}/uploads`;
  return {
    start: (format: ArchiveFormat) => http.json<StartedUpload>(base, { method: "POST", json: { format } }),
    putPart: (uploadId: string, partNumber: number, bytes: Blob | Uint8Array) =>
      http.json<UploadedPart>(`${base}/${uploadId}/parts/${partNumber}`, { method: "PUT", body: bytes as BodyInit }),
    complete: (uploadId: string, parts: UploadedPart[]) => http.json<CompletedUpload>(`${base}/${uploadId}/complete`, { method: "POST", json: { parts } }),
    abort: (uploadId: string) => http.send(`${base}/${uploadId}`, { method: "DELETE" }).then(() => undefined),
  };
}

/** Uploads `archive` as a multipart upload; an upload that fails part-way is aborted. */
export async function ingestMultipart(http: Http, projectId: string, archive: Blob, opts: UploadOptions = {}): Promise<{ jobId: string }> {
  const steps = multipartSteps(http, projectId);
  const progress = opts.onProgress ?? (() => undefined);
  const started = await steps.start(opts.format ?? "tar.gz");
  try {
    const parts: UploadedPart[] = [];
    for (let at = 0, n = 1; at < archive.size; at += started.partBytes, n++) {
      // A Blob slice is read when it is sent, so only one part is in memory at a time.
      const part = new Uint8Array(await archive.slice(at, Math.min(archive.size, at + started.partBytes)).arrayBuffer());
      const partNumber = n;
      parts.push(await withRetries(() => steps.putPart(started.uploadId, partNumber, part)));
      progress(at + part.byteLength, archive.size);
    }
    const done = await withRetries(() => steps.complete(started.uploadId, parts));
    return { jobId: done.jobId };
  } catch (e) {
    await steps.abort(started.uploadId).catch(() => undefined);
    throw e;
  }
}

/** Uploads `archive` into `projectId` the way its size calls for, and answers the job it started. */
export async function uploadArchive(http: Http, projectId: string, archive: Blob, opts: UploadOptions = {}): Promise<{ jobId: string; multipart: boolean }> {
  if (archive.size <= (opts.threshold ?? MULTIPART_THRESHOLD)) {
    const { jobId } = await ingestDirect(http, projectId, archive, opts);
    return { jobId, multipart: false };
  }
  const { jobId } = await ingestMultipart(http, projectId, archive, opts);
  return { jobId, multipart: true };
}
