/**
 * One chunk as the API shows it, live or superseded: its row, its text from R2, the secrets masked in it
 * (live), or the path's current version (retired). Another org's chunk, or one outside a key's projects,
 * reads as missing.
 */
import { and, asc, eq, isNull } from "drizzle-orm";
import { type Access, mayTouch } from "../auth/access";
import { notFound } from "../errors";
import { findingsWithin } from "../security/secret-scanner";
import { type Db, getChunkText, tables } from "../storage";

type ChunkRow = typeof tables.chunks.$inferSelect;

/** The chunk id, or its retired copy, when it belongs to a live project of the org; another org's id reads as missing. */
async function findChunk(db: Db, chunkId: string, orgId: string): Promise<{ chunk: ChunkRow; retiredAt: number | null } | undefined> {
  const p = tables.projects;
  const ofOrg = (projectId: typeof tables.chunks.projectId | typeof tables.retiredChunks.projectId) =>
    and(eq(p.projectId, projectId), eq(p.orgId, orgId), isNull(p.deletedAt));
  const live = await db
    .select({ chunk: tables.chunks })
    .from(tables.chunks)
    .innerJoin(p, ofOrg(tables.chunks.projectId))
    .where(eq(tables.chunks.chunkId, chunkId))
    .get();
  if (live) return { chunk: live.chunk, retiredAt: null };
  const retired = await db
    .select({ chunk: tables.retiredChunks })
    .from(tables.retiredChunks)
    .innerJoin(p, ofOrg(tables.retiredChunks.projectId))
    .where(eq(tables.retiredChunks.chunkId, chunkId))
    .get();
  if (!retired) return undefined;
  const { retiredAt, ...chunk } = retired.chunk;
  return { chunk, retiredAt };
}

/** The path as it is now: its file's sha and chunk ids in order, or null when the path is gone. */
async function currentVersion(db: Db, projectId: string, path: string): Promise<{ path: string; chunkIds: string[]; sha256: string } | null> {
  const file = await db
    .select({ sha256: tables.files.sha256 })
    .from(tables.files)
    .where(and(eq(tables.files.projectId, projectId), eq(tables.files.path, path)))
    .get();
  if (!file) return null;
  const rows = await db
    .select({ chunkId: tables.chunks.chunkId })
    .from(tables.chunks)
    .where(and(eq(tables.chunks.projectId, projectId), eq(tables.chunks.path, path)))
    .orderBy(asc(tables.chunks.ordinal))
    .all();
  return { path, chunkIds: rows.map((r) => r.chunkId), sha256: file.sha256 };
}

export type ChunkView = Awaited<ReturnType<typeof readChunk>>;

/** The chunk `chunkId` if `access` may read it, else `not_found`. */
export async function readChunk(deps: { db: Db; bucket: R2Bucket }, chunkId: string, access: Access) {
  const { db } = deps;
  const found = await findChunk(db, chunkId, access.orgId);
  if (!found || !mayTouch(access, found.chunk.projectId)) throw notFound("chunk");
  const { chunk, retiredAt } = found;
  // A retired chunk's object is kept as long as its row (garbage collection counts retired rows as references).
  const text = await getChunkText(deps.bucket, chunk.r2Key);
  if (text === null) throw new Error(`chunk ${chunk.chunkId} has no object at ${chunk.r2Key}`);
  const view = {
    chunkId: chunk.chunkId,
    projectId: chunk.projectId,
    path: chunk.path,
    ordinal: chunk.ordinal,
    startLine: chunk.startLine,
    endLine: chunk.endLine,
    byteOffset: chunk.byteOffset,
    byteLength: chunk.byteLength,
    tokenCount: chunk.tokenCount,
    sha256: chunk.sha256,
    type: chunk.type,
    severity: chunk.severity,
    encoding: chunk.encoding,
    createdAt: new Date(chunk.createdAt).toISOString(),
    text,
  };
  if (retiredAt === null) {
    // The secrets masked in this chunk: its file's findings within its lines (never a value).
    const file = await db
      .select({ secrets: tables.files.secrets })
      .from(tables.files)
      .where(and(eq(tables.files.projectId, chunk.projectId), eq(tables.files.path, chunk.path)))
      .get();
    return { ...view, secrets: findingsWithin(file?.secrets ?? null, chunk.startLine, chunk.endLine), superseded: false as const };
  }
  return {
    ...view,
    superseded: true as const,
    retiredAt: new Date(retiredAt).toISOString(),
    current: await currentVersion(db, chunk.projectId, chunk.path),
  };
}
