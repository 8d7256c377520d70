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

/** A request the server refused; `status` 0 when it never answered. */
export class CallError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export async function call<T>(client: Client, path: string, init: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${client.server}${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${client.token}` },
    });
  } catch (e) {
    throw new CallError(`${init.method ?? "GET"} ${path} failed: ${e instanceof Error ? e.message : String(e)}`, 0);
  }
  const text = await res.text();
  if (!res.ok) throw new CallError(`${init.method ?? "GET"} ${path} answered ${res.status}: ${text}`, res.status);
  return (text ? JSON.parse(text) : {}) as T;
}

// Waits before the second and third try of a request that failed on the way or with 502/503/504.
const RETRY_WAITS_MS = [1_000, 4_000];

/**
 * `send` again after a transient failure. Only for requests that may arrive twice: a part (the same
 * part number overwrites), completing (answers the same job), an upload (its tree is applied again,
 * in order, changing nothing).
 */
export async function withRetries<T>(send: () => Promise<T>, waits = RETRY_WAITS_MS): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (e) {
      const transient = e instanceof CallError && (e.status === 0 || e.status === 502 || e.status === 503 || e.status === 504);
      const wait = waits[attempt];
      if (!transient || wait === undefined) throw e;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
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
    const send = () => {
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
      return call<{ jobId: string }>(client, `/api/projects/${projectId}/ingest`, {
        method: "POST",
        headers: { "content-type": "application/gzip", "content-length": String(file.size) },
        body: counted,
        duplex: "half",
      } as RequestInit);
    };
    const { jobId } = await withRetries(send);
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
      parts.push(await withRetries(() => call(client, `${base}/parts/${n}`, { method: "PUT", body: part })));
      progress(at + part.byteLength, file.size);
    }
    const { jobId } = await withRetries(() => call<{ jobId: string }>(client, `${base}/complete`, json({ parts })));
    return { jobId, multipart: true };
  } catch (e) {
    await call(client, base, { method: "DELETE" }).catch(() => undefined);
    throw e;
  } finally {
    await handle.close();
  }
}
