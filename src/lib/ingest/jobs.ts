/** Ingestion jobs: one row per job, one row per queue message; a job's status is derived from its batches. */
import { and, eq, sql } from "drizzle-orm";
import { type Db, rowsPerStatement, tables } from "../storage";
import type { Statement, WriteStats } from "./write-files";

export type JobSource = (typeof tables.ingestJobs.$inferInsert)["source"];

export type FileError = { path?: string; message: string };

export type JobView = {
  jobId: string;
  projectId: string;
  source: JobSource;
  status: "queued" | "running" | "done" | "failed";
  files: { total: number; done: number; skipped: number; unchanged: number; ignored: number; removed: number };
  chunks: number;
  chunksWritten: number;
  tokens: number;
  errors: FileError[];
  batches: { total: number; done: number; failed: number };
  createdAt: string;
  finishedAt: string | null;
};

// A job view lists this many errors; the rest are counted in `errorsOmitted`-style truncation.
const MAX_ERRORS_SHOWN = 200;

export function insertJobStatements(
  db: Db,
  job: {
    jobId: string;
    projectId: string;
    orgId: string;
    source: JobSource;
    createdAt: number;
    filesTotal: number;
    filesUnchanged: number;
    filesIgnored: number;
  },
  batchCount: number,
): Statement[] {
  const out: Statement[] = [db.insert(tables.ingestJobs).values({ ...job, batchCount })];
  const rows = Array.from({ length: batchCount }, (_, seq) => ({ jobId: job.jobId, seq, status: "queued" as const }));
  for (const part of rowsPerStatement(rows, tables.jobBatches)) out.push(db.insert(tables.jobBatches).values(part));
  return out;
}

/** Marks a batch done with its counts, only once: a redelivered message leaves the first result. */
export function finishBatchStatement(db: Db, jobId: string, seq: number, stats: WriteStats, errors: FileError[]): Statement {
  return db
    .update(tables.jobBatches)
    .set({
      status: "done",
      filesDone: stats.filesWritten + stats.filesStale,
      filesSkipped: stats.filesSkipped,
      filesRemoved: stats.filesRemoved,
      chunks: stats.chunks,
      chunksWritten: stats.chunksWritten,
      tokens: stats.tokens,
      errors: JSON.stringify(errors),
      finishedAt: Date.now(),
    })
    .where(and(eq(tables.jobBatches.jobId, jobId), eq(tables.jobBatches.seq, seq), eq(tables.jobBatches.status, "queued")));
}

export async function batchStatus(db: Db, jobId: string, seq: number): Promise<"queued" | "done" | "failed" | undefined> {
  const row = await db
    .select({ status: tables.jobBatches.status })
    .from(tables.jobBatches)
    .where(and(eq(tables.jobBatches.jobId, jobId), eq(tables.jobBatches.seq, seq)))
    .get();
  return row?.status;
}

/** Records a failed attempt; the message will be retried by the queue. */
export async function recordAttemptError(db: Db, jobId: string, seq: number, message: string): Promise<void> {
  await db
    .update(tables.jobBatches)
    .set({ attempts: sql`${tables.jobBatches.attempts} + 1`, lastError: message.slice(0, 2000) })
    .where(and(eq(tables.jobBatches.jobId, jobId), eq(tables.jobBatches.seq, seq)));
}

/** Dead-lettered: the batch is failed for good, with its last error kept on the job. */
export async function markBatchFailed(db: Db, jobId: string, seq: number, reason: string): Promise<void> {
  await db
    .update(tables.jobBatches)
    .set({
      status: "failed",
      finishedAt: Date.now(),
      lastError: sql`coalesce(${tables.jobBatches.lastError}, ${reason})`,
    })
    .where(and(eq(tables.jobBatches.jobId, jobId), eq(tables.jobBatches.seq, seq), sql`${tables.jobBatches.status} != 'done'`));
}

export async function failJob(db: Db, jobId: string, error: string): Promise<void> {
  await db.update(tables.ingestJobs).set({ error }).where(eq(tables.ingestJobs.jobId, jobId));
}

/** The job as the API shows it, or undefined if it is not the org's. */
export async function readJob(db: Db, jobId: string, orgId: string): Promise<JobView | undefined> {
  const job = await db
    .select()
    .from(tables.ingestJobs)
    .where(and(eq(tables.ingestJobs.jobId, jobId), eq(tables.ingestJobs.orgId, orgId)))
    .get();
  if (!job) return undefined;
  const batches = await db.select().from(tables.jobBatches).where(eq(tables.jobBatches.jobId, jobId)).all();
  let done = 0;
  let failed = 0;
  let started = false;
  let finishedAt = 0;
  const view: JobView = {
    jobId: job.jobId,
    projectId: job.projectId,
    source: job.source,
    status: "queued",
    files: { total: job.filesTotal, done: job.filesUnchanged, skipped: 0, unchanged: job.filesUnchanged, ignored: job.filesIgnored, removed: 0 },
    chunks: 0,
    chunksWritten: 0,
    tokens: 0,
    errors: job.error ? [{ message: job.error }] : [],
    batches: { total: batches.length, done: 0, failed: 0 },
    createdAt: new Date(job.createdAt).toISOString(),
    finishedAt: null,
  };
  for (const b of batches) {
    if (b.status === "done") done++;
    if (b.status === "failed") failed++;
    if (b.status !== "queued" || b.attempts > 0) started = true;
    finishedAt = Math.max(finishedAt, b.finishedAt ?? 0);
    view.files.done += b.filesDone;
    view.files.skipped += b.filesSkipped;
    view.files.removed += b.filesRemoved;
    view.chunks += b.chunks;
    view.chunksWritten += b.chunksWritten;
    view.tokens += b.tokens;
    for (const e of JSON.parse(b.errors) as FileError[]) if (view.errors.length < MAX_ERRORS_SHOWN) view.errors.push(e);
    if (b.status === "failed") view.errors.push({ message: `batch ${b.seq} failed after ${b.attempts} attempts: ${b.lastError ?? "dead-lettered"}` });
  }
  view.batches = { total: batches.length, done, failed };
  const finished = done + failed === batches.length;
  if (job.error) view.status = "failed";
  else if (finished) view.status = failed > 0 ? "failed" : "done";
  else view.status = started || done > 0 ? "running" : "queued";
  if (finished || job.error) view.finishedAt = new Date(Math.max(finishedAt, job.createdAt)).toISOString();
  return view;
}
