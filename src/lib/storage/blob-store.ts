/**
 * Binary files' bytes in R2, content-addressed per project like chunk text (`chunkKey`): equal files share one
 * object, project deletion removes them with the project's prefix, and garbage collection drops a blob once no
 * file row and no sandbox snapshot of the project names it (src/lib/retention/gc.ts).
 */
import { and, eq } from "drizzle-orm";
import type { Db } from "./db";
import { files } from "./schema";

// A binary file's bytes are kept up to this size (a fixture, an image, a small model file); a larger one is
// listed as skipped ("too large") with its size. A 16 MiB blob is one workspace batch of its own (~21 MiB base64).
export const MAX_BLOB_BYTES = 16 * 1024 * 1024;

export function blobKey(projectId: string, sha256: string): string {
  return `projects/${projectId}/blobs/${sha256}`;
}

export const BLOB_KEY = /^projects\/([^/]+)\/blobs\/([0-9a-f]{64})$/;

/**
 * Stores `bytes` as the project's blob of `sha256` unless a file row of the project already names it (then
 * nothing is written: a re-ingest of unchanged or copied binaries writes no object). Answers the key.
 */
export async function keepBlob(db: Db, bucket: R2Bucket, projectId: string, sha256: string, bytes: Uint8Array): Promise<string> {
  const key = blobKey(projectId, sha256);
  const held = await db
    .select({ path: files.path })
    .from(files)
    .where(and(eq(files.projectId, projectId), eq(files.blobKey, key)))
    .limit(1)
    .get();
  if (!held) await bucket.put(key, bytes, { httpMetadata: { contentType: "application/octet-stream" }, sha256 });
  return key;
}

/** A blob's bytes in base64 (how the sandboxes take binary files), or null when the object is gone. */
export async function getBlobBase64(bucket: R2Bucket, key: string): Promise<string | null> {
  const obj = await bucket.get(key);
  if (!obj) return null;
  const bytes = new Uint8Array(await obj.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.byteLength; i += BASE64_SLICE) binary += String.fromCharCode(...bytes.subarray(i, i + BASE64_SLICE));
  return btoa(binary);
}

// Bytes per String.fromCharCode call: well under the engine's limit on arguments.
const BASE64_SLICE = 0x8000;
