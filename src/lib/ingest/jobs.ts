/** Ingestion jobs: one row per job, one row per queue message; a job's status is derived from its batches. */
import { and, eq, sql } from "drizzle-orm";
import { type Db, rowsPerStatement, tables } from "../storage";
import type { Statement, WriteStats } from "./write-files";

export type JobSource = (typeof tables.ingestJobs.$inferInsert)["source"];

export type FileError = { path?: string; message: string };

export type BatchStatus = (typeof tables.jobBatches.$inferSelect)["status"];

/** A skipped entry as a job lists it. */
export type SkippedView = { path: string; reason: string; detail?: string | undefined };

/** What one batch did with its entries: counts per outcome key (see outcomeKey) and its skipped entries. */
export type BatchOutcomes = { counts: Record<string, number>; skipped: SkippedView[] };

export type JobView = {
  jobId: string;
  projectId: string;
  source: JobSource;
  /** `waiting`: an upload held until the project's earlier upload is applied (see tree-order.ts). */
  status: "waiting" | "queued" | "running" | "done" | "failed";
  files: { total: number; done: number; skipped: number; unchanged: number; ignored: number; removed: number };
  /** Entries by outcome: text (UTF-8), decoded (text from another encoding), binary, link, and skipped by reason. */
  outcomes: { text: number; decoded: number; binary: number; link: number; skipped: Record<string, number> };
  /** The first skipped entries with their reasons; `GET /api/projects/:id/files?status=skipped` lists every stored one. */
  skipped: SkippedView[];
  chunks: number;
  chunksWritten: number;
  tokens: number;
  errors: FileError[];
  batches: { total: number; done: number; failed: number };
  /** Failed attempts over all batches, and messages the watchdog re-sent because a batch made no progress. */
  attempts: number;
  requeues: number;
  /** When the watchdog first found a still-queued batch stalled; null while the job makes progress. */
  stalledSince: string | null;
  createdAt: string;
  finishedAt: string | null;
};

// A job view lists this many errors and this many skipped entries.
const MAX_ERRORS_SHOWN = 200;
const MAX_SKIPPED_SHOWN = 100;

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
    filesDuplicate?: number;
    skippedSample?: string;
  },
  messages: readonly unknown[],
  status: "queued" | "waiting" = "queued",
): Statement[] {
  const out: Statement[] = [db.insert(tables.ingestJobs).values({ ...job, batchCount: messages.length })];
  const now = Date.now();
  const rows = messages.map((m, seq) => ({ jobId: job.jobId, seq, status, message: JSON.stringify(m), updatedAt: now }));
  // A statement carries at most ~64 KB of messages: D1 bounds a statement's size as well as its parameters.
  for (const part of rowsPerStatement(rows, tables.jobBatches)) {
    let group: typeof rows = [];
    let bytes = 0;
    for (const r of part) {
      if (group.length > 0 && bytes + r.message.length > 64_000) {
        out.push(db.insert(tables.jobBatches).values(group));
        group = [];
        bytes = 0;
      }
      group.push(r);
      bytes += r.message.length;
    }
    if (group.length > 0) out.push(db.insert(tables.jobBatches).values(group));
  }
  return out;
}

/** Marks a batch done with its counts, only once: a redelivered message leaves the first result. */
export function finishBatchStatement(db: Db, jobId: string, seq: number, stats: WriteStats, errors: FileError[], outcomes: BatchOutcomes): Statement {
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
      outcomes: JSON.stringify(outcomes.counts),
      skipped: JSON.stringify(outcomes.skipped.slice(0, MAX_SKIPPED_SHOWN)),
      finishedAt: Date.now(),
      updatedAt: Date.now(),
      stalledSince: null,
    })
    .where(and(eq(tables.jobBatches.jobId, jobId), eq(tables.jobBatches.seq, seq), eq(tables.jobBatches.status, "queued")));
}

export async function batchStatus(db: Db, jobId: string, seq: number): Promise<BatchStatus | undefined> {
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
    .set({ attempts: sql`${tables.jobBatches.attempts} + 1`, lastError: message.slice(0, 2000), updatedAt: Date.now() })
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
  const sample = JSON.parse(job.skippedSample) as SkippedView[];
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
    outcomes: { text: 0, decoded: 0, binary: 0, link: 0, skipped: {} },
    skipped: sample.slice(0, MAX_SKIPPED_SHOWN),
    chunks: 0,
    chunksWritten: 0,
    tokens: 0,
    errors: job.error ? [{ message: job.error }] : [],
    batches: { total: batches.length, done: 0, failed: 0 },
    attempts: 0,
    requeues: 0,
    stalledSince: null,
    createdAt: new Date(job.createdAt).toISOString(),
    finishedAt: null,
  };
  let stalledSince = Number.POSITIVE_INFINITY;
  for (const b of batches) {
    view.attempts += b.attempts;
    view.requeues += b.requeues;
    if (b.status === "queued" && b.stalledSince !== null) stalledSince = Math.min(stalledSince, b.stalledSince);
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
    for (const [key, n] of Object.entries(JSON.parse(b.outcomes) as Record<string, number>)) {
      addOutcome(view.outcomes, key, n);
      // A push's .gitignore rules are read by the consumer, so its batches count what they ignored.
      if (key === "skipped:ignored") view.files.ignored += n;
    }
    for (const e of JSON.parse(b.skipped) as SkippedView[]) if (view.skipped.length < MAX_SKIPPED_SHOWN) view.skipped.push(e);
    if (b.status === "failed") view.errors.push({ message: `batch ${b.seq} failed after ${b.attempts} attempts: ${b.lastError ?? "dead-lettered"}` });
  }
  view.batches = { total: batches.length, done, failed };
  if (Number.isFinite(stalledSince)) view.stalledSince = new Date(stalledSince).toISOString();
  if (job.filesIgnored > 0) addOutcome(view.outcomes, "skipped:ignored", job.filesIgnored);
  if (job.filesDuplicate > 0) addOutcome(view.outcomes, "skipped:duplicate path", job.filesDuplicate);
  // Paths refused before anything was staged or fetched (a push's invalid paths) are counted from the job's sample.
  for (const e of sample) if (e.reason !== "ignored" && e.reason !== "duplicate path") addOutcome(view.outcomes, `skipped:${e.reason}`, 1);
  const finished = done + failed === batches.length;
  if (job.error) view.status = "failed";
  else if (finished) view.status = failed > 0 ? "failed" : "done";
  else if (batches.some((b) => b.status === "waiting")) view.status = "waiting";
  else view.status = started || done > 0 ? "running" : "queued";
  if (finished || job.error) view.finishedAt = new Date(Math.max(finishedAt, job.createdAt)).toISOString();
  return view;
}

function addOutcome(outcomes: JobView["outcomes"], key: string, n: number): void {
  if (key.startsWith("skipped:")) {
    const reason = key.slice("skipped:".length);
    outcomes.skipped[reason] = (outcomes.skipped[reason] ?? 0) + n;
  } else if (key === "text" || key === "decoded" || key === "binary" || key === "link") outcomes[key] += n;
}
