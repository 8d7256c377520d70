/**
 * Binary files' bytes in R2, content-addressed per project like chunk text (`chunkKey`): equal files share one
 * object, project deletion removes them with the project's prefix, and garbage collection drops a blob once no
 * file row and no sandbox snapshot of the project names it (src/lib/retention/gc.ts).
 */

// A binary file's bytes are kept up to this size (a fixture, an image, a small model file); a larger one is
// listed as skipped ("too large") with its size. A 16 MiB blob is one workspace batch of its own (~21 MiB base64).
export const MAX_BLOB_BYTES = 16 * 1024 * 1024;

export function blobKey(projectId: string, sha256: string): string {
  return `projects/${projectId}/blobs/${sha256}`;
}

export const BLOB_KEY = /^projects\/([^/]+)\/blobs\/([0-9a-f]{64})$/;

export async function putBlob(bucket: R2Bucket, key: string, bytes: Uint8Array, sha256: string): Promise<void> {
  await bucket.put(key, bytes, { httpMetadata: { contentType: "application/octet-stream" }, sha256 });
}

/** A blob's bytes in base64 (how the sandboxes take binary files), or null when the object is gone. */
export async function getBlobBase64(bucket: R2Bucket, key: string): Promise<string | null> {
  const obj = await bucket.get(key);
  return obj ? toBase64(new Uint8Array(await obj.arrayBuffer())) : null;
}

// Bytes per String.fromCharCode call: well under the engine's limit on arguments.
const BASE64_SLICE = 0x8000;

/** Bytes as base64 (a staged batch and a workspace batch carry binary files so, inside their JSON). */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.byteLength; i += BASE64_SLICE) binary += String.fromCharCode(...bytes.subarray(i, i + BASE64_SLICE));
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
