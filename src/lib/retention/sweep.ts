/**
 * Leftovers of ingestion: staged batches no consumer will read again (their batch failed or finished,
 * the job failed to enqueue, or the job stopped moving), multipart uploads left open, and archives a
 * completed upload did not get to delete. Each run lists one page of keys or rows and keeps its cursor.
 */
import { and, eq, inArray, lt } from "drizzle-orm";
import { type Db, tables } from "../storage";
import { readCursor, writeCursor } from "./cursors";
import { GC_GRACE_MS } from "./gc";

export type SweepDeps = { db: Db; bucket: R2Bucket };

export type SweepOptions = {
  now: number;
  /** Keys listed per run. */
  limit?: number;
  /** Open uploads aborted per run: each costs an R2 abort and a delete besides its row. */
  uploadLimit?: number;
  /** Only this project (tests; an operator's targeted sweep). */
  projectId?: string;
};

/**
 * A job with no batch finished for a day is abandoned: the queue retries a message within a minute
 * (2 s, 8 s, 32 s) and dead-letters it after that, so a day of silence means nothing is coming.
 * An upload idle as long is abandoned too (a client sends its parts within minutes of each other).
 */
export const STALE_MS = 24 * 60 * 60 * 1000;
export const SWEEP_KEYS_PER_RUN = 1000;
export const UPLOADS_PER_RUN = 50;
const JOBS_PER_QUERY = 90;

const STAGED_KEY = /^staging\/([^/]+)\/([^/]+)\/(\d+)\.json$/;

export type StagingReport = { listed: number; deleted: number; done: boolean };

/** Deletes the staged batches of one listed page that no consumer will read again. */
export async function sweepStaging(deps: SweepDeps, opts: SweepOptions): Promise<StagingReport> {
  const { db, bucket } = deps;
  const prefix = opts.projectId ? `staging/${opts.projectId}/` : "staging/";
  const cursorName = opts.projectId ? `sweep:staging:${opts.projectId}` : "sweep:staging";
  const cursor = await readCursor(db, cursorName);
  const page = await bucket.list({ prefix, limit: Math.min(opts.limit ?? SWEEP_KEYS_PER_RUN, SWEEP_KEYS_PER_RUN), ...(cursor ? { cursor } : {}) });

  const staged = page.objects.flatMap((o) => {
    const m = STAGED_KEY.exec(o.key);
    return m ? [{ key: o.key, jobId: m[2] as string, seq: Number(m[3]), uploaded: o.uploaded.getTime() }] : [];
  });
  const jobIds = [...new Set(staged.map((s) => s.jobId))];
  const jobs = new Map<string, { error: string | null; lastProgress: number }>();
  const batches = new Map<string, "waiting" | "queued" | "done" | "failed">();
  for (let i = 0; i < jobIds.length; i += JOBS_PER_QUERY) {
    const ids = jobIds.slice(i, i + JOBS_PER_QUERY);
    const jobRows = await db
      .select({ jobId: tables.ingestJobs.jobId, error: tables.ingestJobs.error, createdAt: tables.ingestJobs.createdAt })
      .from(tables.ingestJobs)
      .where(inArray(tables.ingestJobs.jobId, ids))
      .all();
    for (const j of jobRows) jobs.set(j.jobId, { error: j.error, lastProgress: j.createdAt });
    const batchRows = await db
      .select({ jobId: tables.jobBatches.jobId, seq: tables.jobBatches.seq, status: tables.jobBatches.status, finishedAt: tables.jobBatches.finishedAt })
      .from(tables.jobBatches)
      .where(inArray(tables.jobBatches.jobId, ids))
      .all();
    for (const b of batchRows) {
      batches.set(`${b.jobId}/${b.seq}`, b.status);
      const job = jobs.get(b.jobId);
      if (job && b.finishedAt) job.lastProgress = Math.max(job.lastProgress, b.finishedAt);
    }
  }

  const dead = staged.filter((s) => {
    const job = jobs.get(s.jobId);
    // Staging writes its objects before the job row (and deletes them itself when it fails): spare them a day.
    if (!job) return s.uploaded < opts.now - STALE_MS;
    const status = batches.get(`${s.jobId}/${s.seq}`);
    if (status === "done" || status === "failed") return true;
    if (job.error !== null) return s.uploaded < opts.now - GC_GRACE_MS;
    return job.lastProgress < opts.now - STALE_MS;
  });
  if (dead.length) await bucket.delete(dead.map((s) => s.key));
  await writeCursor(db, cursorName, page.truncated ? page.cursor : null);
  return { listed: page.objects.length, deleted: dead.length, done: !page.truncated };
}

export type UploadsReport = { aborted: number; archivesDeleted: number; done: boolean };

/** Aborts multipart uploads idle for a day, and deletes archives under `uploads/` that nothing will read. */
export async function sweepUploads(deps: SweepDeps, opts: SweepOptions): Promise<UploadsReport> {
  const { db, bucket } = deps;
  const u = tables.uploads;
  const uploadLimit = opts.uploadLimit ?? UPLOADS_PER_RUN;
  const idle = await db
    .select({ uploadId: u.uploadId, r2Key: u.r2Key, r2UploadId: u.r2UploadId, updatedAt: u.updatedAt })
    .from(u)
    .where(and(eq(u.status, "open"), lt(u.updatedAt, opts.now - STALE_MS), opts.projectId ? eq(u.projectId, opts.projectId) : undefined))
    .limit(uploadLimit)
    .all();
  for (const row of idle) {
    try {
      await bucket.resumeMultipartUpload(row.r2Key, row.r2UploadId).abort();
    } catch {
      // The upload was completed (or aborted) in R2 but its row not updated: nothing is left to abort.
    }
    await bucket.delete(row.r2Key);
    // Only if no part arrived meanwhile (it would have moved updated_at).
    await db
      .update(u)
      .set({ status: "aborted", updatedAt: opts.now })
      .where(and(eq(u.uploadId, row.uploadId), eq(u.status, "open"), eq(u.updatedAt, row.updatedAt)));
  }

  // An archive is read and deleted by the request that completes its upload; one older than a day was
  // left behind by a request that died in between.
  const prefix = opts.projectId ? `uploads/${opts.projectId}/` : "uploads/";
  const cursorName = opts.projectId ? `sweep:uploads:${opts.projectId}` : "sweep:uploads";
  const cursor = await readCursor(db, cursorName);
  const page = await bucket.list({ prefix, limit: Math.min(opts.limit ?? SWEEP_KEYS_PER_RUN, SWEEP_KEYS_PER_RUN), ...(cursor ? { cursor } : {}) });
  const stale = page.objects.filter((o) => o.uploaded.getTime() < opts.now - STALE_MS).map((o) => o.key);
  if (stale.length) await bucket.delete(stale);
  await writeCursor(db, cursorName, page.truncated ? page.cursor : null);
  return { aborted: idle.length, archivesDeleted: stale.length, done: !page.truncated && idle.length < uploadLimit };
}
