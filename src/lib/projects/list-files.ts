/** A project's files in path order, a page at a time, each with its chunk ids. */
import { and, asc, eq, gt, gte, lte } from "drizzle-orm";
import { type Db, type FileStatus, tables } from "../storage";

export async function listFiles(db: Db, projectId: string, q: { cursor?: string | undefined; limit: number; status?: FileStatus | undefined }) {
  // (project_id, status, path) is indexed, so a status filter is one range scan too.
  const where = and(
    eq(tables.files.projectId, projectId),
    q.status ? eq(tables.files.status, q.status) : undefined,
    q.cursor ? gt(tables.files.path, q.cursor) : undefined,
  );
  const rows = await db
    .select()
    .from(tables.files)
    .where(where)
    .orderBy(asc(tables.files.path))
    .limit(q.limit + 1)
    .all();
  const page = rows.slice(0, q.limit);
  const ids = new Map<string, string[]>();
  const first = page[0];
  const last = page[page.length - 1];
  if (first && last) {
    // One range scan on (project_id, path) fetches the page's chunk ids.
    const chunkRows = await db
      .select({ path: tables.chunks.path, chunkId: tables.chunks.chunkId })
      .from(tables.chunks)
      .where(and(eq(tables.chunks.projectId, projectId), gte(tables.chunks.path, first.path), lte(tables.chunks.path, last.path)))
      .orderBy(asc(tables.chunks.path), asc(tables.chunks.ordinal))
      .all();
    for (const r of chunkRows) ids.set(r.path, [...(ids.get(r.path) ?? []), r.chunkId]);
  }
  return {
    files: page.map((f) => ({
      path: f.path,
      sha256: f.sha256,
      sizeBytes: f.sizeBytes,
      tokenCount: f.tokenCount,
      binary: f.binary,
      type: f.type,
      status: f.status,
      encoding: f.encoding,
      linkTarget: f.linkTarget,
      skipReason: f.skipReason,
      skipDetail: f.skipDetail,
      secrets: f.secrets ? (JSON.parse(f.secrets) as { ruleId: string; startLine: number; endLine: number }[]) : [],
      chunkIds: ids.get(f.path) ?? [],
      updatedAt: new Date(f.updatedAt).toISOString(),
    })),
    nextCursor: rows.length > q.limit && last ? last.path : null,
  };
}
