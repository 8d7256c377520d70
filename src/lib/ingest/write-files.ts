/**
 * Writes prepared files to the chunk store and builds the catalog statements for them. Chunk text
 * and binary files' bytes go to R2 first (only shas the project does not already hold), so a catalog row never points at
 * a missing object; the caller commits the returned statements in one D1 batch (one transaction).
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { blobKey, chunkKey, type Db, putBlob, putChunkText, rowsPerStatement, type Statement, tables } from "../storage";
import { chunkIdFor, type PreparedFile } from "./prepare-file";

// A file lists at most this many secret findings (all are masked; a generated file may hold thousands).
const MAX_SECRETS_LISTED = 100;
export type WriteDeps = { db: Db; bucket: R2Bucket };

export type { Statement };

export type WriteStats = {
  filesWritten: number;
  filesSkipped: number;
  filesRemoved: number;
  filesStale: number;
  chunks: number;
  chunksWritten: number;
  tokens: number;
};

export type ChunkRow = typeof tables.chunks.$inferInsert;

export type WriteResult = {
  statements: Statement[];
  stats: WriteStats;
  /** The files and removals that were not superseded by a newer job, with their chunk rows. */
  live: PreparedFile[];
  removed: string[];
  chunkRows: ChunkRow[];
};

// Paths per IN (...) list: the project id takes one of D1's 100 parameters.
const PATHS_PER_QUERY = 90;
// R2 writes in flight at once per batch.
const R2_CONCURRENCY = 16;

export async function writeFiles(deps: WriteDeps, projectId: string, jobCreatedAt: number, files: PreparedFile[], removals: string[]): Promise<WriteResult> {
  const { db } = deps;
  const stats: WriteStats = { filesWritten: 0, filesSkipped: 0, filesRemoved: 0, filesStale: 0, chunks: 0, chunksWritten: 0, tokens: 0 };

  // An older job's message that arrives late must not overwrite what a newer job wrote.
  const newer = await pathsWrittenAfter(db, projectId, [...files.map((f) => f.path), ...removals], jobCreatedAt);
  const live = files.filter((f) => !newer.has(f.path));
  const removed = removals.filter((p) => !newer.has(p));
  stats.filesStale = files.length + removals.length - live.length - removed.length;

  const wanted = [...new Set(live.flatMap((f) => f.chunks.map((c) => c.sha256)))];
  const held = await shasHeld(db, projectId, wanted);
  const textBySha = new Map<string, string>();
  for (const f of live) for (const c of f.chunks) if (!held.has(c.sha256)) textBySha.set(c.sha256, c.text);
  const puts = [...textBySha.entries()];
  for (let i = 0; i < puts.length; i += R2_CONCURRENCY) {
    await Promise.all(puts.slice(i, i + R2_CONCURRENCY).map(([sha, text]) => putChunkText(deps.bucket, chunkKey(projectId, sha), text)));
  }
  stats.chunksWritten = puts.length;

  // Binary files' bytes, content-addressed like chunk text: a blob a file row of the project already names is not written again.
  const blobs = new Map<string, { sha: string; bytes: Uint8Array }>();
  for (const f of live) if (f.blobBytes) blobs.set(blobKey(projectId, f.sha256), { sha: f.sha256, bytes: f.blobBytes });
  const blobsHeld = await blobKeysHeld(db, projectId, [...blobs.keys()]);
  const blobPuts = [...blobs.entries()].filter(([key]) => !blobsHeld.has(key));
  for (let i = 0; i < blobPuts.length; i += R2_CONCURRENCY) {
    await Promise.all(blobPuts.slice(i, i + R2_CONCURRENCY).map(([key, b]) => putBlob(deps.bucket, key, b.bytes, b.sha)));
  }

  const statements: Statement[] = [];
  const retiredAt = Date.now();
  const touched = [...live.map((f) => f.path), ...removed];
  for (let i = 0; i < touched.length; i += PATHS_PER_QUERY) {
    const paths = touched.slice(i, i + PATHS_PER_QUERY);
    statements.push(retireChunksStatement(db, projectId, paths, retiredAt));
    statements.push(db.delete(tables.chunks).where(and(eq(tables.chunks.projectId, projectId), inArray(tables.chunks.path, paths))));
  }
  for (let i = 0; i < removed.length; i += PATHS_PER_QUERY) {
    const paths = removed.slice(i, i + PATHS_PER_QUERY);
    statements.push(db.delete(tables.files).where(and(eq(tables.files.projectId, projectId), inArray(tables.files.path, paths))));
  }
  stats.filesRemoved = removed.length;

  const chunkRows: ChunkRow[] = [];
  const fileRows: (typeof tables.files.$inferInsert)[] = [];
  for (const f of live) {
    let tokens = 0;
    for (const [ordinal, c] of f.chunks.entries()) {
      tokens += c.tokenCount;
      chunkRows.push({
        chunkId: await chunkIdFor(projectId, f.path, ordinal, c.sha256),
        projectId,
        path: f.path,
        ordinal,
        startLine: c.startLine,
        endLine: c.endLine,
        byteOffset: c.byteOffset,
        byteLength: c.byteLength,
        tokenCount: c.tokenCount,
        sha256: c.sha256,
        r2Key: chunkKey(projectId, c.sha256),
        type: f.type,
        severity: c.severity ?? null,
        encoding: f.encoding ?? null,
        createdAt: Date.now(),
      });
    }
    fileRows.push({
      projectId,
      path: f.path,
      sha256: f.sha256,
      sizeBytes: f.sizeBytes,
      tokenCount: tokens,
      binary: f.binary,
      type: f.type,
      status: f.status,
      encoding: f.encoding ?? null,
      linkTarget: f.linkTarget ?? null,
      skipReason: f.skipReason ?? null,
      skipDetail: f.skipDetail ?? null,
      secrets: f.secrets ? JSON.stringify(f.secrets.slice(0, MAX_SECRETS_LISTED)) : null,
      chunkCount: f.chunks.length,
      executable: f.executable ?? null,
      blobKey: f.blobBytes ? blobKey(projectId, f.sha256) : null,
      jobCreatedAt,
      updatedAt: Date.now(),
    });
    if (f.status === "skipped") stats.filesSkipped++;
    else stats.filesWritten++;
    stats.chunks += f.chunks.length;
    stats.tokens += tokens;
  }
  for (const rows of rowsPerStatement(chunkRows, tables.chunks)) statements.push(db.insert(tables.chunks).values(rows));
  // A chunk that did not change gets its old id back (ids derive from project, path, ordinal and sha): it is live, not retired.
  for (let i = 0; i < touched.length; i += PATHS_PER_QUERY) statements.push(unretireLiveStatement(db, projectId, touched.slice(i, i + PATHS_PER_QUERY)));
  for (const rows of rowsPerStatement(fileRows, tables.files)) {
    statements.push(
      db
        .insert(tables.files)
        .values(rows)
        .onConflictDoUpdate({
          target: [tables.files.projectId, tables.files.path],
          set: {
            sha256: sql`excluded.sha256`,
            sizeBytes: sql`excluded.size_bytes`,
            tokenCount: sql`excluded.token_count`,
            binary: sql`excluded.binary`,
            type: sql`excluded.type`,
            status: sql`excluded.status`,
            encoding: sql`excluded.encoding`,
            linkTarget: sql`excluded.link_target`,
            skipReason: sql`excluded.skip_reason`,
            skipDetail: sql`excluded.skip_detail`,
            secrets: sql`excluded.secrets`,
            chunkCount: sql`excluded.chunk_count`,
            // A source that did not say (a push's file fetched by path) leaves the recorded bit as it is.
            executable: sql`coalesce(excluded.executable, ${tables.files.executable})`,
            blobKey: sql`excluded.blob_key`,
            jobCreatedAt: sql`excluded.job_created_at`,
            updatedAt: sql`excluded.updated_at`,
          },
        }),
    );
  }
  return { statements, stats, live, removed, chunkRows };
}

/**
 * Copies the paths' chunk rows into retired_chunks before they are deleted, so a chunk id recorded in an
 * audit row or a generation keeps resolving (as superseded) until the org's retention removes it.
 */
function retireChunksStatement(db: Db, projectId: string, paths: string[], retiredAt: number): Statement {
  const c = tables.chunks;
  return db
    .insert(tables.retiredChunks)
    .select(
      // Columns in retired_chunks' order: drizzle inserts a select positionally.
      db
        .select({
          chunkId: c.chunkId,
          projectId: c.projectId,
          path: c.path,
          ordinal: c.ordinal,
          startLine: c.startLine,
          endLine: c.endLine,
          byteOffset: c.byteOffset,
          byteLength: c.byteLength,
          tokenCount: c.tokenCount,
          sha256: c.sha256,
          r2Key: c.r2Key,
          type: c.type,
          severity: c.severity,
          encoding: c.encoding,
          createdAt: c.createdAt,
          retiredAt: sql<number>`${retiredAt}`.as("retired_at"),
        })
        .from(c)
        .where(and(eq(c.projectId, projectId), inArray(c.path, paths))),
    )
    .onConflictDoNothing({ target: tables.retiredChunks.chunkId });
}

/** Drops the retired copies of chunks that the same batch wrote again (their rows are live). */
function unretireLiveStatement(db: Db, projectId: string, paths: string[]): Statement {
  const r = tables.retiredChunks;
  return db
    .delete(r)
    .where(and(eq(r.projectId, projectId), inArray(r.path, paths), sql`exists (select 1 from ${tables.chunks} where ${tables.chunks.chunkId} = ${r.chunkId})`));
}

async function pathsWrittenAfter(db: Db, projectId: string, paths: string[], jobCreatedAt: number): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < paths.length; i += PATHS_PER_QUERY) {
    const rows = await db
      .select({ path: tables.files.path, at: tables.files.jobCreatedAt })
      .from(tables.files)
      .where(and(eq(tables.files.projectId, projectId), inArray(tables.files.path, paths.slice(i, i + PATHS_PER_QUERY))));
    for (const r of rows) if (r.at > jobCreatedAt) out.add(r.path);
  }
  return out;
}

async function shasHeld(db: Db, projectId: string, shas: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < shas.length; i += PATHS_PER_QUERY) {
    const rows = await db
      .selectDistinct({ sha: tables.chunks.sha256 })
      .from(tables.chunks)
      .where(and(eq(tables.chunks.projectId, projectId), inArray(tables.chunks.sha256, shas.slice(i, i + PATHS_PER_QUERY))));
    for (const r of rows) out.add(r.sha);
  }
  return out;
}

async function blobKeysHeld(db: Db, projectId: string, keys: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < keys.length; i += PATHS_PER_QUERY) {
    const rows = await db
      .selectDistinct({ key: tables.files.blobKey })
      .from(tables.files)
      .where(and(eq(tables.files.projectId, projectId), inArray(tables.files.blobKey, keys.slice(i, i + PATHS_PER_QUERY))));
    for (const r of rows) if (r.key !== null) out.add(r.key);
  }
  return out;
}
