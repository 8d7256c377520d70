/**
 * A verified GitHub push as ingestion jobs: the projects whose webhook secret signed the payload, the
 * ones that follow the pushed branch, and for each a job of fetch and removal batches on the queue.
 */
import { eq } from "drizzle-orm";
import { buildIgnoreRules } from "../chunker";
import { constantTimeEqual, hmacSha256Hex, newId } from "../crypto/hash";
import { type Changes, checkPushPath, type GitHost, pushChanges } from "../git-host";
import type { PushEvent } from "../git-host/push-event";
import type { ProjectRow } from "../projects/projects";
import { type Db, runBatch, tables } from "../storage";
import { enqueue } from "./enqueue";
import { insertJobStatements, type SkippedView } from "./jobs";
import { type IngestMessage, REMOVALS_PER_MESSAGE } from "./messages";
import type { StageDeps } from "./stage-upload";

// Paths per fetch message: each is one contents request, kept well inside a consumer's subrequest budget.
const PATHS_PER_MESSAGE = 50;
// Path bytes per message: paths may be up to 4 KiB each, and a queue message is at most 128 KB.
const PATH_BYTES_PER_MESSAGE = 64 * 1024;
// The job lists this many skipped paths (refused and ignored) decided here; the rest are counted.
const SKIPPED_SAMPLE = 100;

/** The projects linked to `repoFullName` whose webhook secret produced `signature` over `raw`. */
export async function signedProjects(db: Db, repoFullName: string, signature: string, raw: Uint8Array): Promise<ProjectRow[]> {
  const candidates = await db.select().from(tables.projects).where(eq(tables.projects.repoFullName, repoFullName.toLowerCase())).all();
  const verified: ProjectRow[] = [];
  for (const p of candidates) {
    if (p.webhookSecret && constantTimeEqual(signature, `sha256=${await hmacSha256Hex(p.webhookSecret, raw)}`)) verified.push(p);
  }
  return verified;
}

export type PushResult = { jobs: { projectId: string; jobId: string }[]; skipped: { projectId: string; reason: string }[] };

/**
 * One job per project that follows the pushed branch. Listing the changed files may throw a
 * GitHostError; then nothing is enqueued, so the delivery can be retried.
 */
export async function enqueuePush(deps: StageDeps & { gitHost: GitHost }, push: PushEvent, projects: ProjectRow[]): Promise<PushResult> {
  const result: PushResult = { jobs: [], skipped: [] };
  const following = projects.filter((p) => {
    const branch = p.repoBranch ?? push.repository.default_branch ?? push.repository.master_branch ?? "main";
    if (push.ref === `refs/heads/${branch}`) return true;
    result.skipped.push({ projectId: p.projectId, reason: `push to ${push.ref}, project follows refs/heads/${branch}` });
    return false;
  });
  if (following.length === 0) return result;

  const plan = planPaths(await pushChanges(deps.gitHost, push));
  for (const p of following) {
    if (plan.seen === 0) {
      result.skipped.push({ projectId: p.projectId, reason: "the push changes no files" });
      continue;
    }
    const jobId = newId("job");
    const messages: IngestMessage[] = [];
    for (const paths of chunkPaths(plan.upserts, PATHS_PER_MESSAGE)) {
      messages.push({ kind: "git", jobId, projectId: p.projectId, seq: messages.length, repo: push.repository.full_name, ref: push.after, paths });
    }
    for (const paths of chunkPaths(plan.removals, REMOVALS_PER_MESSAGE)) {
      messages.push({ kind: "remove", jobId, projectId: p.projectId, seq: messages.length, paths });
    }
    const job = {
      jobId,
      projectId: p.projectId,
      orgId: p.orgId,
      source: "webhook" as const,
      createdAt: Date.now(),
      filesTotal: plan.upserts.length + plan.removals.length,
      filesUnchanged: 0,
      filesIgnored: plan.ignored,
      skippedSample: JSON.stringify(plan.sample),
    };
    await runBatch(deps.db, insertJobStatements(deps.db, job, messages));
    await enqueue(deps, jobId, messages);
    result.jobs.push({ projectId: p.projectId, jobId });
  }
  return result;
}

/**
 * The push's paths after the path rules and the default ignore list: refused paths and ignored ones
 * are listed, never fetched. The repository's .gitignore files are applied by the consumer, which can
 * read them at the pushed commit.
 */
function planPaths(changes: Changes): Changes & { ignored: number; sample: SkippedView[]; seen: number } {
  const defaults = buildIgnoreRules([]);
  const sample: SkippedView[] = [];
  const note = (s: SkippedView): void => {
    if (sample.length < SKIPPED_SAMPLE) sample.push(s);
  };
  let ignored = 0;
  const upserts: string[] = [];
  const removals: string[] = [];
  for (const [list, out] of [
    [changes.upserts, upserts],
    [changes.removals, removals],
  ] as const) {
    for (const raw of list) {
      const checked = checkPushPath(raw);
      if (!checked.ok) note(checked.refused);
      else if (out === upserts && defaults.isIgnored(checked.path)) {
        ignored++;
        note({ path: checked.path, reason: "ignored", detail: "default ignore list" });
      } else out.push(checked.path);
    }
  }
  return { upserts, removals, ignored, sample, seen: changes.upserts.length + changes.removals.length };
}

/** Paths in groups of at most `count` paths and PATH_BYTES_PER_MESSAGE bytes. */
function chunkPaths(paths: string[], count: number): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const p of paths) {
    const size = new TextEncoder().encode(JSON.stringify(p)).byteLength + 1;
    if (current.length > 0 && (current.length >= count || bytes + size > PATH_BYTES_PER_MESSAGE)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(p);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
