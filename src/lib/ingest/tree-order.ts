/**
 * Uploads of one project are applied one at a time, in the order they arrived, and the newest wins.
 *
 * An upload is a whole tree: what it lacks is removed and what it holds unchanged is skipped, both decided
 * against the catalog when it is staged. Two uploads applied at once would each decide against a catalog
 * the other is changing and leave a mix. So the project holds a claim (`projects.tree_job_id`): the upload
 * that takes it stages as usual; one that arrives while it is held stages every file (nothing counts as
 * unchanged) and waits, its batches `waiting`, its kept paths in a manifest. When the applying job has no
 * batch left queued, the claim is released and the newest waiting upload takes it: its removals are
 * decided then, against the catalog as the earlier upload left it, and its batches are sent. Older
 * waiting uploads end failed, superseded by it. Pushes are not trees and never wait: the catalog's
 * per-path order (write-files.ts) already keeps the newest write of each path.
 */
import { and, desc, eq, isNotNull, type SQL, sql } from "drizzle-orm";
import type { Db } from "../storage";
import { runBatch, tables } from "../storage";
import { enqueue } from "./enqueue";
import { type IngestMessage, REMOVALS_PER_MESSAGE, stagingKey } from "./messages";

export type TreeDeps = { db: Db; bucket: R2Bucket; queue: Queue<IngestMessage>; watchJob: (jobId: string) => Promise<void> };

/** A claim held this long by a job with nothing queued (its staging died) is taken over. */
export const STALE_CLAIM_MS = 30 * 60_000;

export function manifestKey(projectId: string, jobId: string): string {
  return `staging/${projectId}/${jobId}/manifest.json`;
}

/**
 * Takes the project's claim for `jobId` if nobody holds it, or its holder is stale: claimed over
 * STALE_CLAIM_MS ago and with no batch queued (a staging that died before its job was written).
 */
export async function claimTree(db: Db, projectId: string, jobId: string, now: number): Promise<boolean> {
  const res = await db.run(sql`
    UPDATE projects SET tree_job_id = ${jobId}, tree_claimed_at = ${now}
    WHERE project_id = ${projectId}
      AND (tree_job_id IS NULL OR tree_job_id = ${jobId} OR (tree_claimed_at < ${now - STALE_CLAIM_MS} AND ${finished(sql`projects.tree_job_id`)}))`);
  return res.meta.changes > 0;
}

/** The job has nothing queued, or failed as a whole (its messages were never sent). */
function finished(jobId: SQL): SQL {
  return sql`(NOT EXISTS (SELECT 1 FROM job_batches WHERE job_id = ${jobId} AND status = 'queued')
    OR EXISTS (SELECT 1 FROM ingest_jobs WHERE job_id = ${jobId} AND error IS NOT NULL))`;
}

/**
 * Called whenever one of a job's batches ends (done, failed, dead-lettered, stalled) and when an upload's
 * staging fails: if the job holds its project's claim and has nothing queued, the claim passes on.
 */
export async function jobEnded(deps: TreeDeps, jobId: string): Promise<void> {
  const released = await deps.db.all<{ project_id: string }>(sql`
    UPDATE projects SET tree_job_id = NULL, tree_claimed_at = NULL
    WHERE tree_job_id = ${jobId} AND ${finished(sql`${jobId}`)} RETURNING project_id`);
  for (const r of released) await startNextTree(deps, r.project_id);
}

/**
 * Starts the newest waiting upload of the project if the claim is free; older waiting uploads end
 * failed, superseded. Safe to call at any time and from anywhere: the claim makes one caller win.
 */
export async function startNextTree(deps: TreeDeps, projectId: string): Promise<string | undefined> {
  const { db } = deps;
  const waiting = await db
    .selectDistinct({ jobId: tables.ingestJobs.jobId, createdAt: tables.ingestJobs.createdAt })
    .from(tables.ingestJobs)
    .innerJoin(tables.jobBatches, eq(tables.jobBatches.jobId, tables.ingestJobs.jobId))
    .where(and(eq(tables.ingestJobs.projectId, projectId), eq(tables.jobBatches.status, "waiting")))
    .orderBy(desc(tables.ingestJobs.createdAt), desc(tables.ingestJobs.jobId))
    .all();
  const [newest, ...older] = waiting;
  if (!newest) return undefined;
  if (!(await claimTree(db, projectId, newest.jobId, Date.now()))) return undefined;
  for (const old of older) await supersede(deps, projectId, old.jobId, newest.jobId);
  await release(deps, projectId, newest.jobId);
  return newest.jobId;
}

/** Decides the waiting job's removals against the catalog as it is now, then queues all its batches. */
async function release(deps: TreeDeps, projectId: string, jobId: string): Promise<void> {
  const { db, bucket } = deps;
  const manifest = await bucket.get(manifestKey(projectId, jobId));
  if (!manifest) {
    // Without its list of kept paths, applying the tree could remove the whole project: it fails instead.
    await failWaiting(db, jobId, "its list of kept paths is missing from the chunk store; upload the tree again");
    return jobEnded(deps, jobId);
  }
  const kept = new Set<string>((await manifest.json()) as string[]);
  const catalog = await db.select({ path: tables.files.path }).from(tables.files).where(eq(tables.files.projectId, projectId)).all();
  const removals = catalog.map((r) => r.path).filter((p) => !kept.has(p));
  const held = await db
    .select({ seq: tables.jobBatches.seq, message: tables.jobBatches.message })
    .from(tables.jobBatches)
    .where(and(eq(tables.jobBatches.jobId, jobId), eq(tables.jobBatches.status, "waiting"), isNotNull(tables.jobBatches.message)))
    .orderBy(tables.jobBatches.seq)
    .all();
  // A retry after a partial release finds the batches already queued and sends nothing twice.
  if (held.length === 0) return;
  const messages = held.map((b) => JSON.parse(b.message as string) as IngestMessage);
  let seq = (held.at(-1)?.seq ?? -1) + 1;
  const now = Date.now();
  const added: (typeof tables.jobBatches.$inferInsert)[] = [];
  for (let i = 0; i < removals.length; i += REMOVALS_PER_MESSAGE) {
    const m: IngestMessage = { kind: "remove", jobId, projectId, seq, paths: removals.slice(i, i + REMOVALS_PER_MESSAGE) };
    added.push({ jobId, seq, status: "queued", message: JSON.stringify(m), updatedAt: now });
    messages.push(m);
    seq++;
  }
  // Watched before its batches are queued: if this stops before they are sent, the watchdog sends them.
  await deps.watchJob(jobId);
  await runBatch(db, [
    ...added.map((row) => db.insert(tables.jobBatches).values(row).onConflictDoNothing()),
    db.update(tables.ingestJobs).set({ batchCount: seq }).where(eq(tables.ingestJobs.jobId, jobId)),
    db
      .update(tables.jobBatches)
      .set({ status: "queued", updatedAt: now })
      .where(and(eq(tables.jobBatches.jobId, jobId), eq(tables.jobBatches.status, "waiting"))),
  ]);
  await enqueue(deps, jobId, messages);
  await bucket.delete(manifestKey(projectId, jobId));
}

/** A waiting upload overtaken by a newer one: its batches end failed with the reason, its staged objects go. */
async function supersede(deps: TreeDeps, projectId: string, jobId: string, by: string): Promise<void> {
  const held = await deps.db
    .select({ seq: tables.jobBatches.seq })
    .from(tables.jobBatches)
    .where(and(eq(tables.jobBatches.jobId, jobId), eq(tables.jobBatches.status, "waiting")))
    .all();
  await failWaiting(deps.db, jobId, `superseded by ${by}, a later upload of this project; its tree is the one applied`);
  const keys = [...held.map((b) => stagingKey(projectId, jobId, b.seq)), manifestKey(projectId, jobId)];
  for (let i = 0; i < keys.length; i += 1000) await deps.bucket.delete(keys.slice(i, i + 1000));
}

async function failWaiting(db: Db, jobId: string, reason: string): Promise<void> {
  const now = Date.now();
  await db
    .update(tables.jobBatches)
    .set({ status: "failed", finishedAt: now, updatedAt: now, lastError: reason })
    .where(and(eq(tables.jobBatches.jobId, jobId), eq(tables.jobBatches.status, "waiting")));
}
