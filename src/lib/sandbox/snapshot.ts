/**
 * Sandbox snapshots by reference. Taking one copies the project's file and chunk rows (not their text) under a
 * snapshot id inside D1; reading one rebuilds files from the chunk objects in R2 (overlaps removed by byte offsets)
 * and reads binary files' bytes from their blobs.
 */
import { and, asc, eq, gte, inArray, lte, sql } from "drizzle-orm";
import { type Db, getBlobBase64, getChunkText, tables } from "../storage";
import { joinChunks } from "./join-chunks";

// Conversations and logs are ingested into the project but are not part of its source tree.
const NOT_SOURCE = ["conversation", "log"];
// Chunk objects read from R2 at once while rebuilding a batch: well under a Worker's simultaneous connections.
const R2_READS_AT_ONCE = 6;
// Paths bound per `in (...)` query, under D1's 100 bound parameters.
const PATHS_PER_QUERY = 90;

export type SnapshotFile = {
  path: string;
  status: "text" | "binary" | "link";
  sizeBytes: number;
  linkTarget: string | null;
  executable: boolean;
  /** A binary file's bytes in R2. */
  blobKey: string | null;
};

/**
 * Records the project's current tree (text files, binary files whose bytes were kept, links; each with its
 * executable bit, and where each chunk's text and each blob is) as `snapshotId`. Two statements run by D1
 * itself: nothing of the tree passes through the Worker.
 */
export async function takeSnapshot(db: Db, projectId: string, snapshotId: string): Promise<void> {
  // In sequence (a raw statement cannot join a drizzle batch); an ingest committing in between is caught by the
  // join below: a chunk is copied only for a file row that the files statement could have seen as text.
  await db.run(sql`insert into ${tables.sandboxSnapshotFiles} (snapshot_id, project_id, path, status, size_bytes, link_target, executable, blob_key)
      select ${snapshotId}, project_id, path, status, size_bytes, link_target, coalesce(executable, 0), blob_key from ${tables.files}
      where project_id = ${projectId} and type not in ${NOT_SOURCE}
        and (status in ('text', 'link') or (status = 'binary' and blob_key is not null))`);
  await db.run(sql`insert into ${tables.sandboxSnapshotChunks} (snapshot_id, project_id, path, ordinal, byte_offset, sha256, r2_key)
      select ${snapshotId}, c.project_id, c.path, c.ordinal, c.byte_offset, c.sha256, c.r2_key from ${tables.chunks} c
      join ${tables.files} f on f.project_id = c.project_id and f.path = c.path and f.status = 'text'
      join ${tables.sandboxSnapshotFiles} s on s.snapshot_id = ${snapshotId} and s.path = c.path
      where c.project_id = ${projectId} and c.type not in ${NOT_SOURCE}`);
}

/** Deletes the snapshot's rows once no sandbox run refers to it any more; its chunk objects become garbage for GC. */
export async function dropSnapshotIfUnused(db: Db, snapshotId: string): Promise<void> {
  const used = await db
    .select({ runId: tables.sandboxRuns.runId })
    .from(tables.sandboxRuns)
    .where(eq(tables.sandboxRuns.snapshotId, snapshotId))
    .limit(1)
    .get();
  if (used) return;
  await db.batch([
    db.delete(tables.sandboxSnapshotChunks).where(eq(tables.sandboxSnapshotChunks.snapshotId, snapshotId)),
    db.delete(tables.sandboxSnapshotFiles).where(eq(tables.sandboxSnapshotFiles.snapshotId, snapshotId)),
  ]);
}

/** Up to `limit` of the snapshot's entries after `after`, in path order (keyset pagination). */
export async function snapshotPage(db: Db, snapshotId: string, after: string | null, limit: number): Promise<SnapshotFile[]> {
  const f = tables.sandboxSnapshotFiles;
  const rows = await db
    .select({ path: f.path, status: f.status, sizeBytes: f.sizeBytes, linkTarget: f.linkTarget, executable: f.executable, blobKey: f.blobKey })
    .from(f)
    .where(and(eq(f.snapshotId, snapshotId), after === null ? undefined : sql`${f.path} > ${after}`))
    .orderBy(asc(f.path))
    .limit(limit)
    .all();
  return rows.flatMap((r) => (r.status === "skipped" ? [] : [{ ...r, status: r.status }]));
}

/**
 * The bytes of the snapshot's binary files among `files`, base64 (as the sandboxes take them), read with bounded
 * concurrency. A blob that is gone (it cannot be while a snapshot row names it) is left out.
 */
export async function readBlobs(bucket: R2Bucket, files: readonly SnapshotFile[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const binaries = files.filter((f) => f.status === "binary" && f.blobKey !== null);
  for (let i = 0; i < binaries.length; i += R2_READS_AT_ONCE) {
    await Promise.all(
      binaries.slice(i, i + R2_READS_AT_ONCE).map(async (f) => {
        const base64 = f.blobKey === null ? null : await getBlobBase64(bucket, f.blobKey);
        if (base64 !== null) out.set(f.path, base64);
      }),
    );
  }
  return out;
}

/**
 * The text of the snapshot's text files among `files` (sorted by path, one page of `snapshotPage`): one range
 * query for their chunk rows, then the chunk objects with bounded concurrency. Empty files have no chunks.
 */
export async function rebuildFiles(db: Db, bucket: R2Bucket, snapshotId: string, files: readonly SnapshotFile[]): Promise<Map<string, string>> {
  const texts = files.filter((f) => f.status === "text");
  const first = texts[0]?.path;
  const last = texts.at(-1)?.path;
  const out = new Map<string, string>();
  if (first === undefined || last === undefined) return out;
  const c = tables.sandboxSnapshotChunks;
  const rows = await db
    .select({ path: c.path, byteOffset: c.byteOffset, r2Key: c.r2Key })
    .from(c)
    .where(and(eq(c.snapshotId, snapshotId), gte(c.path, first), lte(c.path, last)))
    .orderBy(asc(c.path), asc(c.ordinal))
    .all();
  const text = await readObjects(bucket, [...new Set(rows.map((r) => r.r2Key))]);
  const wanted = new Set(texts.map((f) => f.path));
  const parts = new Map<string, { byteOffset: number; text: string }[]>();
  for (const r of rows) {
    if (!wanted.has(r.path)) continue;
    const list = parts.get(r.path) ?? [];
    list.push({ byteOffset: r.byteOffset, text: text.get(r.r2Key) ?? "" });
    parts.set(r.path, list);
  }
  for (const f of texts) out.set(f.path, joinChunks(parts.get(f.path) ?? []));
  return out;
}

/** The snapshot's entries at `paths` (any order; missing ones are left out), with the text of the text files. */
export async function readSnapshotFiles(db: Db, bucket: R2Bucket, snapshotId: string, paths: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const f = tables.sandboxSnapshotFiles;
  for (let i = 0; i < paths.length; i += PATHS_PER_QUERY) {
    const rows = await db
      .select({ path: f.path, status: f.status, sizeBytes: f.sizeBytes, linkTarget: f.linkTarget, executable: f.executable, blobKey: f.blobKey })
      .from(f)
      .where(and(eq(f.snapshotId, snapshotId), eq(f.status, "text"), inArray(f.path, paths.slice(i, i + PATHS_PER_QUERY))))
      .orderBy(asc(f.path))
      .all();
    // One at a time: chunks of other files between two wanted paths are not read.
    for (const r of rows) for (const [p, t] of await rebuildFiles(db, bucket, snapshotId, [{ ...r, status: "text" }])) out.set(p, t);
  }
  return out;
}

/** Every path of the snapshot (text and binary files, links), in order: what check detection and link planning need, no text. */
export async function snapshotPaths(db: Db, snapshotId: string): Promise<string[]> {
  const f = tables.sandboxSnapshotFiles;
  const rows = await db.select({ path: f.path }).from(f).where(eq(f.snapshotId, snapshotId)).orderBy(asc(f.path)).all();
  return rows.map((r) => r.path);
}

async function readObjects(bucket: R2Bucket, keys: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < keys.length; i += R2_READS_AT_ONCE) {
    await Promise.all(
      keys.slice(i, i + R2_READS_AT_ONCE).map(async (key) => {
        out.set(key, (await getChunkText(bucket, key)) ?? "");
      }),
    );
  }
  return out;
}

/**
 * The project's whole current tree in memory (text files only). For small trees and tests: sandbox runs
 * read a snapshot in batches instead (`snapshot-batches.ts`).
 */
export async function projectSnapshot(db: Db, bucket: R2Bucket, projectId: string): Promise<Map<string, string>> {
  const snapshotId = `tmp_${crypto.randomUUID()}`;
  await takeSnapshot(db, projectId, snapshotId);
  try {
    const files = (await snapshotPage(db, snapshotId, null, 1_000_000)).filter((f) => f.status === "text");
    return await rebuildFiles(db, bucket, snapshotId, files);
  } finally {
    await dropSnapshotIfUnused(db, snapshotId);
  }
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
