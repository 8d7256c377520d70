/**
 * The job watchdog: finds a job's batches that made no progress for a set time, sends their messages
 * again (processing is idempotent, so a copy of a message still in flight changes nothing), and after
 * the re-sends run out fails the batch with the reason, so no job ever waits silently.
 */
import { and, eq, sql } from "drizzle-orm";
import { type Db, tables } from "../storage";

export type WatchdogPolicy = {
  /** A queued batch with no activity for this long is stalled. */
  stallMs: number;
  /** Re-sends of a stalled batch's message before it is failed. */
  maxRequeues: number;
};

// A healthy batch finishes in seconds, and a failing one records an attempt within its deadlines (at most
// ~6 minutes including the queue's backoff), so five quiet minutes mean the message was lost or its
// consumer hung. Three re-sends cover a lost message and a restarted local server.
export const DEFAULT_WATCHDOG: WatchdogPolicy = { stallMs: 5 * 60_000, maxRequeues: 3 };

export type WatchdogReport = { finished: boolean; requeued: number[]; failed: number[] };

/** One look at a job: re-sends or fails its stalled batches; `finished` once no batch is queued. */
export async function checkJob(
  deps: { db: Db; queue: Queue<unknown> },
  jobId: string,
  now: number,
  policy: WatchdogPolicy = DEFAULT_WATCHDOG,
): Promise<WatchdogReport> {
  const { db } = deps;
  const job = await db
    .select({ createdAt: tables.ingestJobs.createdAt, error: tables.ingestJobs.error })
    .from(tables.ingestJobs)
    .where(eq(tables.ingestJobs.jobId, jobId))
    .get();
  const report: WatchdogReport = { finished: true, requeued: [], failed: [] };
  if (!job || job.error) return report;
  const queued = await db
    .select()
    .from(tables.jobBatches)
    .where(and(eq(tables.jobBatches.jobId, jobId), eq(tables.jobBatches.status, "queued")))
    .all();
  for (const b of queued) {
    report.finished = false;
    const quietSince = b.updatedAt ?? job.createdAt;
    if (now - quietSince < policy.stallMs) continue;
    const where = and(eq(tables.jobBatches.jobId, jobId), eq(tables.jobBatches.seq, b.seq), eq(tables.jobBatches.status, "queued"));
    if (b.message !== null && b.requeues < policy.maxRequeues) {
      await deps.queue.send(JSON.parse(b.message));
      await db
        .update(tables.jobBatches)
        .set({ requeues: sql`${tables.jobBatches.requeues} + 1`, updatedAt: now, stalledSince: b.stalledSince ?? quietSince })
        .where(where);
      report.requeued.push(b.seq);
    } else {
      const minutes = Math.round((now - (b.stalledSince ?? quietSince)) / 60_000);
      const reason = `stalled: no progress for ${minutes} min${b.message === null ? "" : ` after ${b.requeues} re-sends of its message`}${b.lastError ? `; last error: ${b.lastError}` : ""}`;
      await db
        .update(tables.jobBatches)
        .set({ status: "failed", finishedAt: now, updatedAt: now, lastError: reason.slice(0, 2000) })
        .where(where);
      report.failed.push(b.seq);
    }
  }
  return report;
}
