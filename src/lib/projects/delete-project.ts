/**
 * Deleting a project: the request marks it deleted (it reads as missing from then on) and starts a job;
 * the job removes everything the project owns in bounded steps, one queue message per step, each step
 * re-enqueueing the next until nothing is left. Every step is idempotent, so a redelivered message (or
 * two copies running at once) only repeats deletions that already happened.
 */

import { z } from "zod";
import type { Access } from "../auth/access";
import { newId } from "../crypto/hash";
import { type ErrorResult, notFound, unwrap } from "../errors";
import { PermanentError } from "../ingest";

/** The order of the work: sessions and uploads first (they hold objects only their rows name), then the index shard, R2, D1. */
export const DELETION_PHASES = ["fence", "sessions", "uploads", "index", "objects", "rows", "project"] as const;
export type DeletionPhase = (typeof DELETION_PHASES)[number];

export const DeleteProjectMessage = z.object({
  kind: z.literal("delete-project"),
  jobId: z.string().min(1).max(64),
  projectId: z.string().min(1).max(64),
  seq: z.number().int().min(0),
  phase: z.enum(DELETION_PHASES),
});
export type DeleteProjectMessage = z.infer<typeof DeleteProjectMessage>;

export type DeletionDeps = {
  d1: D1Database;
  bucket: R2Bucket;
  queue: Queue<unknown>;
  /** The project's shard: what its deletion needs of it (ProjectIndex implements it). */
  projectIndex: { getByName(name: string): { purge(): Promise<{ done: boolean; vectorsRemoved: number }> } };
  /** Session objects: what a deletion needs of them (Session implements it). */
  sessions: { getByName(name: string): { wipe(access?: Access): Promise<{ existed: boolean } | ErrorResult> } };
};

// Per step: R2 keys listed and deleted (R2 deletes up to 1,000 keys per call; half keeps a step short),
// rows per DELETE statement, and session objects wiped (one subrequest each), far under the Workers
// limit of 1,000 subrequests per invocation.
export const R2_KEYS_PER_STEP = 500;
export const ROWS_PER_STATEMENT = 500;
export const SESSIONS_PER_STEP = 25;
export const UPLOADS_PER_STEP = 25;
// A project of 10 million chunks takes ~20,000 row steps; past this the job fails instead of looping forever.
const MAX_STEPS = 100_000;

/** Where the project's objects live in R2: chunk text, staged batches, multipart uploads, sandbox runs (`runKey`). */
export const projectPrefixes = (projectId: string): string[] => [
  `projects/${projectId}/`,
  `staging/${projectId}/`,
  `uploads/${projectId}/`,
  `sandbox/${projectId}/`,
];

/**
 * Marks the project deleted and starts the job that removes its data; answers the job id. The project's
 * webhook link is cleared at once, so a push arriving meanwhile matches no project.
 */
export async function startProjectDeletion(
  deps: Pick<DeletionDeps, "d1" | "queue">,
  project: { projectId: string; orgId: string; repoFullName: string | null; repoBranch: string | null; webhookSecret: string | null; gitToken: string | null },
): Promise<string> {
  const { d1 } = deps;
  const jobId = newId("job");
  const now = Date.now();
  const [marked] = await d1.batch([
    d1
      .prepare(
        "UPDATE projects SET deleted_at = ?2, repo_full_name = NULL, repo_branch = NULL, webhook_secret = NULL, git_token = NULL WHERE project_id = ?1 AND deleted_at IS NULL",
      )
      .bind(project.projectId, now),
    d1
      .prepare(
        "INSERT INTO ingest_jobs (job_id, project_id, org_id, source, batch_count, files_total, files_unchanged, files_ignored, created_at) VALUES (?1, ?2, ?3, 'delete', 1, 0, 0, 0, ?4)",
      )
      .bind(jobId, project.projectId, project.orgId, now),
    d1.prepare("INSERT INTO job_batches (job_id, seq, status) VALUES (?1, 0, 'queued')").bind(jobId),
  ]);
  const dropJob = () =>
    d1.batch([d1.prepare("DELETE FROM job_batches WHERE job_id = ?1").bind(jobId), d1.prepare("DELETE FROM ingest_jobs WHERE job_id = ?1").bind(jobId)]);
  // A concurrent DELETE got there first: that one's job does the work.
  if (!marked?.meta.changes) {
    await dropJob();
    throw notFound("project");
  }
  const first: DeleteProjectMessage = { kind: "delete-project", jobId, projectId: project.projectId, seq: 0, phase: "fence" };
  try {
    await deps.queue.send(first);
  } catch (e) {
    // Nothing will remove the data without the message: put the project back as it was.
    await d1.batch([
      d1
        .prepare("UPDATE projects SET deleted_at = NULL, repo_full_name = ?2, repo_branch = ?3, webhook_secret = ?4, git_token = ?5 WHERE project_id = ?1")
        .bind(project.projectId, project.repoFullName, project.repoBranch, project.webhookSecret, project.gitToken),
      d1.prepare("DELETE FROM job_batches WHERE job_id = ?1").bind(jobId),
      d1.prepare("DELETE FROM ingest_jobs WHERE job_id = ?1").bind(jobId),
    ]);
    throw e;
  }
  return jobId;
}

type PhaseResult =
  /** The phase has more to do: the next step continues it. */
  | { kind: "more"; filesRemoved?: number }
  /** The phase is finished; `worked` says whether this step already did its share of work in it. */
  | { kind: "done"; worked: boolean }
  /** Something reappeared that an earlier phase removes (a request in flight when the deletion started). */
  | { kind: "again"; phase: DeletionPhase };

type Ctx = DeletionDeps & { projectId: string; jobId: string };

const PHASES: Record<DeletionPhase, (ctx: Ctx) => Promise<PhaseResult>> = {
  /** Queued batches of the project's other jobs are failed, so their messages change nothing when they arrive. */
  async fence({ d1, projectId, jobId }) {
    await d1
      .prepare(
        "UPDATE job_batches SET status = 'failed', last_error = 'the project was deleted', finished_at = ?3 WHERE status IN ('queued', 'waiting') AND job_id IN (SELECT job_id FROM ingest_jobs WHERE project_id = ?1 AND job_id != ?2)",
      )
      .bind(projectId, jobId, Date.now())
      .run();
    return { kind: "done", worked: false };
  },

  /** Each session object is wiped (sockets closed, alarm and storage deleted), then its registry row goes. */
  async sessions({ d1, sessions, projectId }) {
    const { results } = await d1
      .prepare("SELECT session_id FROM sessions WHERE project_id = ?1 LIMIT ?2")
      .bind(projectId, SESSIONS_PER_STEP)
      .all<{ session_id: string }>();
    if (results.length === 0) return { kind: "done", worked: false };
    await Promise.all(results.map(async (r) => unwrap(await sessions.getByName(r.session_id).wipe())));
    await d1
      .prepare("DELETE FROM sessions WHERE session_id IN (SELECT value FROM json_each(?1))")
      .bind(JSON.stringify(results.map((r) => r.session_id)))
      .run();
    return results.length < SESSIONS_PER_STEP ? { kind: "done", worked: true } : { kind: "more" };
  },

  /** Open multipart uploads are aborted in R2 (their parts are not objects a listing finds). */
  async uploads({ d1, bucket, projectId }) {
    const { results } = await d1
      .prepare("SELECT upload_id, r2_key, r2_upload_id FROM uploads WHERE project_id = ?1 AND status = 'open' LIMIT ?2")
      .bind(projectId, UPLOADS_PER_STEP)
      .all<{ upload_id: string; r2_key: string; r2_upload_id: string }>();
    if (results.length === 0) return { kind: "done", worked: false };
    await Promise.all(results.map((u) => abortUpload(bucket, u.r2_key, u.r2_upload_id)));
    await d1
      .prepare("UPDATE uploads SET status = 'aborted', updated_at = ?2 WHERE upload_id IN (SELECT value FROM json_each(?1))")
      .bind(JSON.stringify(results.map((u) => u.upload_id)), Date.now())
      .run();
    return results.length < UPLOADS_PER_STEP ? { kind: "done", worked: true } : { kind: "more" };
  },

  /** The shard removes its vectors from Vectorize (by chunk id) in bounded calls, then its whole storage. */
  async index({ projectIndex, projectId }) {
    const r = await projectIndex.getByName(projectId).purge();
    return r.done ? { kind: "done", worked: r.vectorsRemoved > 0 } : { kind: "more" };
  },

  /** R2 objects under the project's prefixes, at most R2_KEYS_PER_STEP a step. */
  async objects({ bucket, projectId }) {
    for (const prefix of projectPrefixes(projectId)) {
      const listed = await bucket.list({ prefix, limit: R2_KEYS_PER_STEP });
      if (listed.objects.length === 0) continue;
      await bucket.delete(listed.objects.map((o) => o.key));
      return { kind: "more" };
    }
    return { kind: "done", worked: false };
  },

  /** Catalog rows, at most ROWS_PER_STATEMENT per table a step; the deletion job's own rows stay as its record. */
  async rows({ d1, projectId, jobId }) {
    const byProject = (table: string) =>
      d1.prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE project_id = ?1 LIMIT ?2)`).bind(projectId, ROWS_PER_STATEMENT);
    const results = await d1.batch([
      byProject("files"),
      byProject("chunks"),
      byProject("retired_chunks"),
      byProject("summaries"),
      byProject("context_sessions"),
      byProject("sandbox_runs"),
      byProject("sandbox_snapshot_files"),
      byProject("sandbox_snapshot_chunks"),
      d1
        .prepare("DELETE FROM uploads WHERE rowid IN (SELECT rowid FROM uploads WHERE project_id = ?1 AND status != 'open' LIMIT ?2)")
        .bind(projectId, ROWS_PER_STATEMENT),
      d1
        .prepare(
          "DELETE FROM job_batches WHERE rowid IN (SELECT b.rowid FROM job_batches b JOIN ingest_jobs j ON j.job_id = b.job_id WHERE j.project_id = ?1 AND j.job_id != ?2 LIMIT ?3)",
        )
        .bind(projectId, jobId, ROWS_PER_STATEMENT),
      // A job goes once its batches have (the statement above runs first, in the same transaction).
      d1
        .prepare(
          "DELETE FROM ingest_jobs WHERE rowid IN (SELECT rowid FROM ingest_jobs j WHERE j.project_id = ?1 AND j.job_id != ?2 AND NOT EXISTS (SELECT 1 FROM job_batches b WHERE b.job_id = j.job_id) LIMIT ?3)",
        )
        .bind(projectId, jobId, ROWS_PER_STATEMENT),
    ]);
    const changed = results.reduce((n, r) => n + (r.meta.changes ?? 0), 0);
    return changed > 0 ? { kind: "more", filesRemoved: results[0]?.meta.changes ?? 0 } : { kind: "done", worked: false };
  },

  /** Last, the project row, unless a request that was in flight when the deletion began left a session or upload behind. */
  async project({ d1, projectId }) {
    const left = await d1
      .prepare("SELECT (SELECT count(*) FROM sessions WHERE project_id = ?1) AS sessions, (SELECT count(*) FROM uploads WHERE project_id = ?1) AS uploads")
      .bind(projectId)
      .first<{ sessions: number; uploads: number }>();
    if (left?.sessions) return { kind: "again", phase: "sessions" };
    if (left?.uploads) return { kind: "again", phase: "uploads" };
    await d1.prepare("DELETE FROM projects WHERE project_id = ?1 AND deleted_at IS NOT NULL").bind(projectId).run();
    return { kind: "done", worked: true };
  },
};

async function abortUpload(bucket: R2Bucket, key: string, uploadId: string): Promise<void> {
  try {
    await bucket.resumeMultipartUpload(key, uploadId).abort();
  } catch (e) {
    // Completed or aborted already (a redelivered step): nothing is left to abort.
    if (!/does not exist|NoSuchUpload/i.test(e instanceof Error ? e.message : String(e))) throw e;
  }
}

/**
 * One step of a deletion job: the work of its phase (and of any following phases that turn out empty),
 * then the next step's batch row and message, and only then this step's row marked done — a crash at any
 * point leaves this step queued, and its redelivery repeats it.
 */
export async function runDeletionStep(deps: DeletionDeps, msg: DeleteProjectMessage): Promise<"done" | "already-done"> {
  const { d1 } = deps;
  const state = await d1
    .prepare("SELECT b.status, j.source, j.project_id FROM job_batches b JOIN ingest_jobs j ON j.job_id = b.job_id WHERE b.job_id = ?1 AND b.seq = ?2")
    .bind(msg.jobId, msg.seq)
    .first<{ status: string; source: string; project_id: string }>();
  if (!state) throw new PermanentError(`no step ${msg.seq} for deletion job ${msg.jobId}`);
  if (state.source !== "delete" || state.project_id !== msg.projectId) throw new PermanentError(`job ${msg.jobId} is not the deletion of ${msg.projectId}`);
  if (state.status !== "queued") return "already-done";
  if (msg.seq >= MAX_STEPS) throw new PermanentError(`deletion of ${msg.projectId} did not finish in ${MAX_STEPS} steps`);

  const ctx: Ctx = { ...deps, projectId: msg.projectId, jobId: msg.jobId };
  let phase: DeletionPhase = msg.phase;
  let next: DeletionPhase | undefined;
  let filesRemoved = 0;
  for (;;) {
    const r = await PHASES[phase](ctx);
    if (r.kind === "more") {
      filesRemoved += r.filesRemoved ?? 0;
      next = phase;
      break;
    }
    if (r.kind === "again") {
      next = r.phase;
      break;
    }
    const following = DELETION_PHASES[DELETION_PHASES.indexOf(phase) + 1];
    if (following === undefined) break;
    if (r.worked) {
      next = following;
      break;
    }
    phase = following;
  }

  if (next) {
    const seq = msg.seq + 1;
    await d1.batch([
      d1.prepare("INSERT OR IGNORE INTO job_batches (job_id, seq, status) VALUES (?1, ?2, 'queued')").bind(msg.jobId, seq),
      d1.prepare("UPDATE ingest_jobs SET batch_count = max(batch_count, ?2) WHERE job_id = ?1").bind(msg.jobId, seq + 1),
    ]);
    const following: DeleteProjectMessage = { ...msg, seq, phase: next };
    await deps.queue.send(following);
  }
  await d1
    .prepare("UPDATE job_batches SET status = 'done', files_removed = ?3, finished_at = ?4 WHERE job_id = ?1 AND seq = ?2 AND status = 'queued'")
    .bind(msg.jobId, msg.seq, filesRemoved, Date.now())
    .run();
  return "done";
}
