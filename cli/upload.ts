/**
 * Sends a packed archive to the server: one streamed request when it is small, an R2 multipart upload
 * (16 MiB parts) when it is past the threshold, reporting the bytes sent as it goes.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { Readable } from "node:stream";

export type Client = { server: string; token: string };
export type Progress = (sent: number, total: number) => void;

// Below this an archive goes in one request; the Worker's body limit is 100 MB on most plans.
export const MULTIPART_THRESHOLD = 64 * 1024 * 1024;

export async function call<T>(client: Client, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${client.server}${path}`, {
    ...init,
    headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${client.token}` },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

const json = (body: unknown): RequestInit => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** Uploads the .tar.gz at `file` into `projectId` and answers the job it started. */
export async function uploadArchive(
  client: Client,
  projectId: string,
  file: { path: string; size: number },
  opts: { threshold?: number; onProgress?: Progress } = {},
): Promise<{ jobId: string; multipart: boolean }> {
  const progress = opts.onProgress ?? (() => undefined);
  if (file.size <= (opts.threshold ?? MULTIPART_THRESHOLD)) {
    let sent = 0;
    const counted = (Readable.toWeb(createReadStream(file.path)) as ReadableStream<Uint8Array>).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          sent += chunk.byteLength;
          progress(sent, file.size);
          controller.enqueue(chunk);
        },
      }),
    );
    const { jobId } = await call<{ jobId: string }>(client, `/api/projects/${projectId}/ingest`, {
      method: "POST",
      headers: { "content-type": "application/gzip", "content-length": String(file.size) },
      body: counted,
      duplex: "half",
    } as RequestInit);
    return { jobId, multipart: false };
  }
  const started = await call<{ uploadId: string; partBytes: number }>(client, `/api/projects/${projectId}/uploads`, json({ format: "tar.gz" }));
  const base = `/api/projects/${projectId}/uploads/${started.uploadId}`;
  const handle = await open(file.path);
  try {
    const parts: { partNumber: number; etag: string }[] = [];
    for (let at = 0, n = 1; at < file.size; at += started.partBytes, n++) {
      const part = Buffer.alloc(Math.min(started.partBytes, file.size - at));
      await handle.read(part, 0, part.byteLength, at);
      parts.push(await call(client, `${base}/parts/${n}`, { method: "PUT", body: part }));
      progress(at + part.byteLength, file.size);
    }
    const { jobId } = await call<{ jobId: string }>(client, `${base}/complete`, json({ parts }));
    return { jobId, multipart: true };
  } catch (e) {
    await call(client, base, { method: "DELETE" }).catch(() => undefined);
    throw e;
  } finally {
    await handle.close();
  }
}
