/**
 * A verified GitHub push as an ingestion job. Each project has its own webhook URL, so a delivery is
 * checked with one HMAC (its project's secret) before its body is parsed. The push is applied to that
 * project only when it is of the repository and branch the project is linked to and newer than what was
 * indexed; files are then fetched from the linked repository (never the payload's name) with the
 * project's own credential.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { buildIgnoreRules } from "../chunker";
import { constantTimeEqual, hmacSha256Hex, newId, randomToken } from "../crypto/hash";
import { unseal } from "../crypto/seal";
import { type Changes, checkPushPath, commitOrder, type GitHost, pushChanges } from "../git-host";
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
/** How long a delivery id is remembered, so a replay within it changes nothing. */
export const DELIVERY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * The live, linked project whose webhook secret produced `signature` over `raw`, or null. Exactly one
 * HMAC either way: an unknown or unlinked project is checked against a random secret, so the answer's
 * timing does not tell which projects exist or are linked.
 */
export async function signedProject(db: Db, projectId: string, signature: string, raw: Uint8Array): Promise<ProjectRow | null> {
  const p = tables.projects;
  const row = await db
    .select()
    .from(p)
    .where(and(eq(p.projectId, projectId), isNull(p.deletedAt)))
    .get();
  const secret = row?.webhookSecret && row.repoFullName ? row.webhookSecret : randomToken(32);
  const matches = constantTimeEqual(signature, `sha256=${await hmacSha256Hex(secret, raw)}`);
  return matches && row?.webhookSecret && row.repoFullName ? row : null;
}

/** Records the delivery for the project; false when it was seen before (a replay). */
export async function claimDelivery(db: Db, projectId: string, deliveryId: string, now: number): Promise<boolean> {
  const inserted = await db
    .insert(tables.webhookDeliveries)
    .values({ projectId, deliveryId, receivedAt: now })
    .onConflictDoNothing()
    .returning({ deliveryId: tables.webhookDeliveries.deliveryId });
  return inserted.length > 0;
}

/** Forgets a claimed delivery whose work failed, so GitHub's redelivery is accepted. */
export async function releaseDelivery(db: Db, projectId: string, deliveryId: string): Promise<void> {
  const d = tables.webhookDeliveries;
  await db.delete(d).where(and(eq(d.projectId, projectId), eq(d.deliveryId, deliveryId)));
}

/** The project's git host: the service's base URL with the project's own credential (none for a public repository). */
export async function projectGitHost(baseUrl: string, sealKey: string | undefined, project: Pick<ProjectRow, "projectId" | "gitToken">): Promise<GitHost> {
  return { baseUrl, token: project.gitToken ? await unseal(sealKey, project.gitToken, project.projectId) : undefined };
}

export type PushResult = { jobs: { projectId: string; jobId: string }[]; skipped: { projectId: string; reason: string }[] };

/** Why the project does not take this push, or undefined when it does. */
async function declined(gitHost: GitHost, push: PushEvent, p: ProjectRow, repo: string): Promise<string | undefined> {
  if (push.repository.full_name.toLowerCase() !== repo) return `push of ${push.repository.full_name}, project is linked to ${repo}`;
  const branch = p.repoBranch ?? push.repository.default_branch ?? push.repository.master_branch ?? "main";
  if (push.ref !== `refs/heads/${branch}`) return `push to ${push.ref}, project follows refs/heads/${branch}`;
  if (p.pushedCommit === push.after) return `commit ${push.after} is already indexed`;
  // A commit the host cannot place (one of the two unknown to it) is taken as newer.
  if (p.pushedCommit && (await commitOrder(gitHost, repo, p.pushedCommit, push.after)) === "behind") {
    return `commit ${push.after} is older than the indexed ${p.pushedCommit}`;
  }
  return undefined;
}

/**
 * A job for the project when it takes the push (see `declined`). Listing the changed files may throw a
 * GitHostError; then nothing is enqueued, so the delivery can be retried.
 */
export async function enqueuePush(deps: StageDeps & { gitHost: GitHost }, push: PushEvent, p: ProjectRow): Promise<PushResult> {
  const result: PushResult = { jobs: [], skipped: [] };
  const repo = (p.repoFullName ?? "").toLowerCase();
  const reason = await declined(deps.gitHost, push, p, repo);
  if (reason) return { ...result, skipped: [{ projectId: p.projectId, reason }] };
  // Everything from here reads the linked repository, whatever the payload names.
  const linked = { ...push, repository: { ...push.repository, full_name: repo } };
  const plan = planPaths(await pushChanges(deps.gitHost, linked));
  if (plan.seen === 0) return { ...result, skipped: [{ projectId: p.projectId, reason: "the push changes no files" }] };
  const jobId = newId("job");
  const messages: IngestMessage[] = [];
  for (const paths of chunkPaths(plan.upserts, PATHS_PER_MESSAGE)) {
    messages.push({ kind: "git", jobId, projectId: p.projectId, seq: messages.length, repo, ref: push.after, paths });
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
  const statements = insertJobStatements(deps.db, job, messages);
  statements.push(deps.db.update(tables.projects).set({ pushedCommit: push.after }).where(eq(tables.projects.projectId, p.projectId)));
  await runBatch(deps.db, statements);
  await enqueue(deps, jobId, messages);
  result.jobs.push({ projectId: p.projectId, jobId });
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

/** Forgets delivery ids older than DELIVERY_RETENTION_MS, at most `limit` a run (a range of the index on received_at). */
export async function forgetDeliveries(db: Db, now: number, limit = 1000): Promise<number> {
  const result = await db.run(
    sql`DELETE FROM webhook_deliveries WHERE rowid IN (SELECT rowid FROM webhook_deliveries WHERE received_at < ${now - DELIVERY_RETENTION_MS} LIMIT ${limit})`,
  );
  return result.meta.changes ?? 0;
}
