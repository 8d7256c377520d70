/**
 * Garbage collection of chunk text and binary files' bytes in R2. `projects/<p>/chunks/<sha>` is garbage once no
 * chunk row, no retired chunk row and no sandbox snapshot of project <p> names that sha; `projects/<p>/blobs/<sha>`
 * once no file row and no sandbox snapshot of <p> names the blob. Each run lists one page of keys and keeps the list
 * cursor, so the whole bucket is never walked in one invocation.
 */
import { and, eq, inArray } from "drizzle-orm";
import { unionAll } from "drizzle-orm/sqlite-core";
import { BLOB_KEY, type Db, tables } from "../storage";
import { readCursor, writeCursor } from "./cursors";

export type GcDeps = { db: Db; bucket: R2Bucket };

export type GcOptions = {
  /** The clock, in ms since the epoch (tests pass a time in the future instead of sleeping). */
  now: number;
  /**
   * Objects younger than this are spared even when nothing names them: ingestion writes a chunk's object
   * before the D1 batch that names it commits, so a fresh unnamed object may be a write in flight.
   */
  graceMs?: number;
  /** Keys listed per run (R2 lists at most 1,000 at a time). */
  limit?: number;
  /** Only this project's chunks (an operator's targeted sweep; tests). */
  projectId?: string;
};

export type GcReport = { listed: number; deleted: number; spared: number; done: boolean };

/** An hour: far longer than any ingestion batch takes from its R2 writes to its D1 commit (seconds). */
export const GC_GRACE_MS = 60 * 60 * 1000;
export const GC_KEYS_PER_RUN = 1000;
// Shas per reference query: each is bound three times (chunks, retired_chunks, sandbox snapshots) with the project id, under D1's 100 parameters.
const SHAS_PER_QUERY = 30;

const CHUNK_KEY = /^projects\/([^/]+)\/chunks\/([0-9a-f]{64})$/;

/** Deletes the chunk objects of one listed page that nothing references and that are older than the grace period. */
export async function collectGarbage(deps: GcDeps, opts: GcOptions): Promise<GcReport> {
  const { db, bucket } = deps;
  const graceMs = opts.graceMs ?? GC_GRACE_MS;
  const limit = Math.min(opts.limit ?? GC_KEYS_PER_RUN, GC_KEYS_PER_RUN);
  const prefix = opts.projectId ? `projects/${opts.projectId}/` : "projects/";
  const cursorName = opts.projectId ? `gc:chunks:${opts.projectId}` : "gc:chunks";

  const cursor = await readCursor(db, cursorName);
  const page = await bucket.list({ prefix, limit, ...(cursor ? { cursor } : {}) });

  type Listed = { sha: string; key: string; uploaded: number };
  const chunksOf = new Map<string, Listed[]>();
  const blobsOf = new Map<string, Listed[]>();
  for (const o of page.objects) {
    const chunk = CHUNK_KEY.exec(o.key);
    const m = chunk ?? BLOB_KEY.exec(o.key);
    if (!m) continue;
    const [, projectId, sha] = m as unknown as [string, string, string];
    const into = chunk ? chunksOf : blobsOf;
    const list = into.get(projectId) ?? [];
    list.push({ sha, key: o.key, uploaded: o.uploaded.getTime() });
    into.set(projectId, list);
  }

  const garbage: string[] = [];
  let spared = 0;
  const judge = (objects: Listed[], named: Set<string>, of: (o: Listed) => string): void => {
    for (const o of objects) {
      if (named.has(of(o))) continue;
      if (o.uploaded > opts.now - graceMs) spared++;
      else garbage.push(o.key);
    }
  };
  for (const [projectId, objects] of chunksOf)
    judge(
      objects,
      await referencedShas(
        db,
        projectId,
        objects.map((o) => o.sha),
      ),
      (o) => o.sha,
    );
  for (const [projectId, objects] of blobsOf)
    judge(
      objects,
      await referencedBlobs(
        db,
        projectId,
        objects.map((o) => o.key),
      ),
      (o) => o.key,
    );
  // Deleted right after the reference check: the window in which a concurrent ingestion could re-put
  // one of these shas and commit rows naming it is the length of one D1 round trip.
  if (garbage.length) await bucket.delete(garbage);

  await writeCursor(db, cursorName, page.truncated ? page.cursor : null);
  return { listed: page.objects.length, deleted: garbage.length, spared, done: !page.truncated };
}

/** The shas among `shas` that a live or retired chunk row of the project names. */
async function referencedShas(db: Db, projectId: string, shas: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < shas.length; i += SHAS_PER_QUERY) {
    const part = shas.slice(i, i + SHAS_PER_QUERY);
    const live = db
      .selectDistinct({ sha: tables.chunks.sha256 })
      .from(tables.chunks)
      .where(and(eq(tables.chunks.projectId, projectId), inArray(tables.chunks.sha256, part)));
    const retired = db
      .selectDistinct({ sha: tables.retiredChunks.sha256 })
      .from(tables.retiredChunks)
      .where(and(eq(tables.retiredChunks.projectId, projectId), inArray(tables.retiredChunks.sha256, part)));
    // A sandbox run's snapshot keeps the text of its files, so replays see them after the project changed.
    const snapshots = db
      .selectDistinct({ sha: tables.sandboxSnapshotChunks.sha256 })
      .from(tables.sandboxSnapshotChunks)
      .where(and(eq(tables.sandboxSnapshotChunks.projectId, projectId), inArray(tables.sandboxSnapshotChunks.sha256, part)));
    for (const r of await unionAll(live, retired, snapshots).all()) out.add(r.sha);
  }
  return out;
}

/** The blob keys among `keys` that a file row or a sandbox snapshot of the project names. */
async function referencedBlobs(db: Db, projectId: string, keys: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  const f = tables.files;
  const s = tables.sandboxSnapshotFiles;
  for (let i = 0; i < keys.length; i += SHAS_PER_QUERY) {
    const part = keys.slice(i, i + SHAS_PER_QUERY);
    const live = db
      .selectDistinct({ key: f.blobKey })
      .from(f)
      .where(and(eq(f.projectId, projectId), inArray(f.blobKey, part)));
    // A run's snapshot keeps its binary files' bytes, so replays see them after the project changed.
    const snapshots = db
      .selectDistinct({ key: s.blobKey })
      .from(s)
      .where(and(eq(s.projectId, projectId), inArray(s.blobKey, part)));
    for (const r of await unionAll(live, snapshots).all()) if (r.key !== null) out.add(r.key);
  }
  return out;
}
