/** Rebuilds a project's files as ingested, from its chunks in R2 (overlaps removed by byte offsets), and its recorded links. */
import { and, asc, eq } from "drizzle-orm";
import { type Db, getChunkText, tables } from "../storage";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

export async function projectSnapshot(db: Db, bucket: R2Bucket, projectId: string): Promise<Map<string, string>> {
  const rows = await db
    .select({ path: tables.chunks.path, byteOffset: tables.chunks.byteOffset, r2Key: tables.chunks.r2Key, type: tables.chunks.type })
    .from(tables.chunks)
    .where(eq(tables.chunks.projectId, projectId))
    .orderBy(asc(tables.chunks.path), asc(tables.chunks.ordinal))
    .all();
  const texts = new Map<string, string>();
  await Promise.all(
    [...new Set(rows.map((r) => r.r2Key))].map(async (key) => {
      texts.set(key, (await getChunkText(bucket, key)) ?? "");
    }),
  );
  const files = new Map<string, Uint8Array[]>();
  const ends = new Map<string, number>();
  for (const r of rows) {
    // Conversations and logs are not part of the source tree.
    if (r.type === "conversation" || r.type === "log") continue;
    const bytes = ENCODER.encode(texts.get(r.r2Key) ?? "");
    const end = ends.get(r.path) ?? 0;
    const parts = files.get(r.path) ?? [];
    parts.push(bytes.subarray(Math.max(0, end - r.byteOffset)));
    files.set(r.path, parts);
    ends.set(r.path, Math.max(end, r.byteOffset + bytes.byteLength));
  }
  const out = new Map<string, string>();
  for (const [path, parts] of files) {
    const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.byteLength;
    }
    out.set(path, DECODER.decode(all));
  }
  // Empty text files have no chunks but are part of the tree (links, binaries and skipped entries have none either).
  for (const f of await db
    .select({ path: tables.files.path })
    .from(tables.files)
    .where(and(eq(tables.files.projectId, projectId), eq(tables.files.status, "text"), eq(tables.files.chunkCount, 0)))
    .all()) {
    if (!out.has(f.path)) out.set(f.path, "");
  }
  return out;
}

/**
 * The project's recorded symbolic links (catalog status 'link'), as a sandbox run's `links`. The sandbox
 * checks each again and writes only those that cannot lead out of its workspace (see `runner/links.ts`).
 */
export async function projectLinks(db: Db, projectId: string): Promise<{ path: string; target: string }[]> {
  const rows = await db
    .select({ path: tables.files.path, target: tables.files.linkTarget })
    .from(tables.files)
    .where(and(eq(tables.files.projectId, projectId), eq(tables.files.status, "link")))
    .orderBy(asc(tables.files.path))
    .all();
  return rows.flatMap((r) => (r.target ? [{ path: r.path, target: r.target }] : []));
}
