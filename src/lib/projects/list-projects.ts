/**
 * The org's projects, newest first, one page per statement: the page of project rows, their file and
 * token totals (one GROUP BY over the page's files), and each project's last job with its status.
 */
import type { Access } from "../auth/access";
import { AppError } from "../errors";
import { type ProjectRow, projectView } from "./projects";

export const MAX_PROJECTS_PAGE = 100;

export type JobStatus = "queued" | "running" | "done" | "failed";

/** What a job's batches say about it; the same rule as `readJob` in src/lib/ingest/jobs.ts. */
export function jobStatusOf(j: { error: string | null; total: number; done: number; failed: number; started: number }): JobStatus {
  if (j.error) return "failed";
  if (j.done + j.failed === j.total) return j.failed > 0 ? "failed" : "done";
  return j.started > 0 || j.done > 0 ? "running" : "queued";
}

export type ProjectListItem = ReturnType<typeof projectView> & {
  files: number;
  tokens: number;
  lastJob: { jobId: string; source: string; status: JobStatus; createdAt: string; finishedAt: string | null } | null;
  /**
   * How current the index is: the latest upload or push job (whichever is newer), else the latest job of
   * any kind. Pushed commits are not recorded, so a webhook-fed project is as fresh as its last push job.
   */
  freshness: { basis: "upload" | "push" | "job"; at: string } | null;
};

type Cursor = { createdAt: number; projectId: string };

export function encodeCursor(c: Cursor): string {
  return btoa(JSON.stringify([c.createdAt, c.projectId])).replace(/=+$/, "");
}

export function decodeCursor(s: string): Cursor {
  try {
    const [createdAt, projectId] = JSON.parse(atob(s)) as unknown[];
    if (typeof createdAt === "number" && Number.isFinite(createdAt) && typeof projectId === "string") return { createdAt, projectId };
  } catch {
    // Falls through to the error below.
  }
  throw new AppError(400, "invalid_cursor", "the cursor is not one this API returned");
}

type Row = {
  project_id: string;
  org_id: string;
  name: string;
  tokenizer: string;
  chunk_tokens: number;
  overlap_tokens: number;
  max_file_bytes: number;
  max_context_tokens: number | null;
  generation_enabled: number;
  repo_full_name: string | null;
  repo_branch: string | null;
  check_commands: string | null;
  install_commands: string | null;
  created_at: number;
  files: number | null;
  tokens: number | null;
  last_upload_at: number | null;
  last_push_at: number | null;
  job_id: string | null;
  job_source: string | null;
  job_created_at: number | null;
  job_error: string | null;
  batches: number | null;
  batches_done: number | null;
  batches_failed: number | null;
  batches_started: number | null;
  job_finished_at: number | null;
};

// ingest_jobs (project_id, created_at) is indexed, so each correlated subquery is one short index range.
const LIST_SQL = `
WITH page AS (
  SELECT project_id, org_id, name, tokenizer, chunk_tokens, overlap_tokens, max_file_bytes, max_context_tokens, generation_enabled, repo_full_name, repo_branch, check_commands, install_commands, created_at
  FROM projects
  WHERE org_id = ?1 AND deleted_at IS NULL AND (?2 IS NULL OR created_at < ?2 OR (created_at = ?2 AND project_id < ?3))
    AND (?5 IS NULL OR project_id IN (SELECT value FROM json_each(?5)))
  ORDER BY created_at DESC, project_id DESC
  LIMIT ?4
),
totals AS (
  SELECT project_id, count(*) AS files, coalesce(sum(token_count), 0) AS tokens
  FROM files WHERE project_id IN (SELECT project_id FROM page)
  GROUP BY project_id
),
latest AS (
  SELECT page.project_id,
    (SELECT job_id FROM ingest_jobs j WHERE j.project_id = page.project_id ORDER BY j.created_at DESC, j.job_id DESC LIMIT 1) AS job_id,
    (SELECT max(created_at) FROM ingest_jobs j WHERE j.project_id = page.project_id AND j.source = 'upload') AS last_upload_at,
    (SELECT max(created_at) FROM ingest_jobs j WHERE j.project_id = page.project_id AND j.source = 'webhook') AS last_push_at
  FROM page
),
job_state AS (
  SELECT j.job_id, j.source, j.created_at, j.error,
    count(b.seq) AS batches,
    coalesce(sum(b.status = 'done'), 0) AS batches_done,
    coalesce(sum(b.status = 'failed'), 0) AS batches_failed,
    coalesce(sum(b.status != 'queued' OR b.attempts > 0), 0) AS batches_started,
    max(b.finished_at) AS finished_at
  FROM ingest_jobs j LEFT JOIN job_batches b ON b.job_id = j.job_id
  WHERE j.job_id IN (SELECT job_id FROM latest WHERE job_id IS NOT NULL)
  GROUP BY j.job_id
)
SELECT page.*, totals.files, totals.tokens, latest.last_upload_at, latest.last_push_at,
  job_state.job_id, job_state.source AS job_source, job_state.created_at AS job_created_at, job_state.error AS job_error,
  job_state.batches, job_state.batches_done, job_state.batches_failed, job_state.batches_started, job_state.finished_at AS job_finished_at
FROM page
LEFT JOIN totals ON totals.project_id = page.project_id
LEFT JOIN latest ON latest.project_id = page.project_id
LEFT JOIN job_state ON job_state.job_id = latest.job_id
ORDER BY page.created_at DESC, page.project_id DESC`;

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * One page of the live projects the caller may touch (the org's, or those its key is limited to), newest
 * first, and the cursor of the next page (null at the end).
 */
export async function listProjects(
  d1: D1Database,
  access: Access,
  page: { limit: number; cursor?: string | undefined },
): Promise<{ projects: ProjectListItem[]; nextCursor: string | null }> {
  const after = page.cursor ? decodeCursor(page.cursor) : undefined;
  const { results } = await d1
    .prepare(LIST_SQL)
    .bind(access.orgId, after?.createdAt ?? null, after?.projectId ?? null, page.limit + 1, access.projectIds && JSON.stringify(access.projectIds))
    .all<Row>();
  const rows = results.slice(0, page.limit);
  const last = rows[rows.length - 1];
  return {
    projects: rows.map(toItem),
    nextCursor: results.length > page.limit && last ? encodeCursor({ createdAt: last.created_at, projectId: last.project_id }) : null,
  };
}

function toItem(r: Row): ProjectListItem {
  const project: ProjectRow = {
    projectId: r.project_id,
    orgId: r.org_id,
    name: r.name,
    tokenizer: r.tokenizer,
    chunkTokens: r.chunk_tokens,
    overlapTokens: r.overlap_tokens,
    maxFileBytes: r.max_file_bytes,
    repoFullName: r.repo_full_name,
    repoBranch: r.repo_branch,
    webhookSecret: null,
    gitToken: null,
    pushedCommit: null,
    checkCommands: r.check_commands,
    installCommands: r.install_commands,
    createdAt: r.created_at,
    deletedAt: null,
    treeJobId: null,
    treeClaimedAt: null,
    maxContextTokens: r.max_context_tokens,
    generationEnabled: r.generation_enabled,
  };
  const lastJob =
    r.job_id && r.job_source && r.job_created_at !== null
      ? {
          jobId: r.job_id,
          source: r.job_source,
          status: jobStatusOf({
            error: r.job_error,
            total: r.batches ?? 0,
            done: r.batches_done ?? 0,
            failed: r.batches_failed ?? 0,
            started: r.batches_started ?? 0,
          }),
          createdAt: iso(r.job_created_at),
          finishedAt: null as string | null,
        }
      : null;
  if (lastJob && (lastJob.status === "done" || lastJob.status === "failed")) lastJob.finishedAt = iso(Math.max(r.job_finished_at ?? 0, r.job_created_at ?? 0));
  return { ...projectView(project), files: r.files ?? 0, tokens: r.tokens ?? 0, lastJob, freshness: freshnessOf(r) };
}

function freshnessOf(r: Row): ProjectListItem["freshness"] {
  const upload = r.last_upload_at ?? -1;
  const push = r.last_push_at ?? -1;
  if (upload >= 0 || push >= 0) return upload >= push ? { basis: "upload", at: iso(upload) } : { basis: "push", at: iso(push) };
  return r.job_created_at !== null ? { basis: "job", at: iso(r.job_created_at) } : null;
}
