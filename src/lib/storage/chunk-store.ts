/** Chunk text in R2, content-addressed per project so equal chunks share one object. */
export function chunkKey(projectId: string, sha256: string): string {
  return `projects/${projectId}/chunks/${sha256}`;
}

export async function putChunkText(bucket: R2Bucket, key: string, text: string): Promise<void> {
  await bucket.put(key, text, { httpMetadata: { contentType: "text/plain; charset=utf-8" } });
}

export async function getChunkText(bucket: R2Bucket, key: string): Promise<string | null> {
  const obj = await bucket.get(key);
  return obj ? obj.text() : null;
}
