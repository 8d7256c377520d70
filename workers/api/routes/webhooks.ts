/** GitHub push webhooks: authenticated by HMAC-SHA256 of the body with the project's secret, not a bearer token. */
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { buildIgnoreRules } from "../../../src/lib/chunker";
import { constantTimeEqual, hmacSha256Hex, newId } from "../../../src/lib/crypto/hash";
import { AppError } from "../../../src/lib/errors";
import { type Changes, checkPushPath, GitHostError, isRepoName, PushEvent, pushChanges } from "../../../src/lib/git-host";
import { enqueue, type IngestMessage, insertJobStatements } from "../../../src/lib/ingest";
import type { SkippedView } from "../../../src/lib/ingest/jobs";
import { openDb, runBatch, tables } from "../../../src/lib/storage";
import { ingestDeps } from "../../ingest-deps";
import type { AppEnv } from "../types";
import { parseWith } from "../validate";

// GitHub caps webhook payloads at 25 MB.
const MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;
// Paths per fetch message: each is one contents request, kept well inside a consumer's subrequest budget.
const PATHS_PER_MESSAGE = 50;
const REMOVALS_PER_MESSAGE = 400;
// Path bytes per message: paths may be up to 4 KiB each, and a queue message is at most 128 KB.
const PATH_BYTES_PER_MESSAGE = 64 * 1024;
// The job lists this many skipped paths (refused and ignored) decided here; the rest are counted.
const SKIPPED_SAMPLE = 100;

const RepoOnly = z.object({ repository: z.object({ full_name: z.string().min(3) }) });

export const webhookRoutes = new Hono<AppEnv>().post("/webhooks/github", async (c) => {
  const raw = new Uint8Array(await c.req.arrayBuffer());
  if (raw.byteLength > MAX_PAYLOAD_BYTES) throw new AppError(413, "payload_too_large", "webhook payloads are limited to 25 MB");
  const signature = c.req.header("x-hub-signature-256");
  if (!signature?.startsWith("sha256=")) throw new AppError(401, "bad_signature", "missing X-Hub-Signature-256");
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw new AppError(400, "invalid_json", "the payload is not valid JSON");
  }
  const { repository } = parseWith(RepoOnly, payload, "webhook payload");

  const db = openDb(c.env.DB);
  const candidates = await db.select().from(tables.projects).where(eq(tables.projects.repoFullName, repository.full_name.toLowerCase())).all();
  const verified = [];
  for (const p of candidates) {
    if (p.webhookSecret && constantTimeEqual(signature, `sha256=${await hmacSha256Hex(p.webhookSecret, raw)}`)) verified.push(p);
  }
  // Unknown repository and wrong secret answer alike, so the route does not reveal which repositories are linked.
  if (verified.length === 0) throw new AppError(401, "bad_signature", "the signature does not match any project linked to this repository");

  const event = c.req.header("x-github-event") ?? "";
  if (event === "ping") return c.json({ ok: true, event });
  if (event !== "push") return c.json({ ignored: `event "${event}" is not handled` }, 202);
  const push = parseWith(PushEvent, payload, "push payload");
  if (push.deleted) return c.json({ ignored: "branch deletion" }, 202);
  if (!isRepoName(push.repository.full_name)) throw new AppError(400, "invalid_request", `"${push.repository.full_name}" is not an owner/name repository`);

  const skipped: { projectId: string; reason: string }[] = [];
  const following = verified.filter((p) => {
    const branch = p.repoBranch ?? push.repository.default_branch ?? push.repository.master_branch ?? "main";
    if (push.ref === `refs/heads/${branch}`) return true;
    skipped.push({ projectId: p.projectId, reason: `push to ${push.ref}, project follows refs/heads/${branch}` });
    return false;
  });
  if (following.length === 0) return c.json({ jobs: [], skipped }, 200);

  let changes: Changes;
  try {
    changes = await pushChanges({ baseUrl: c.env.GIT_API_BASE_URL, token: c.env.GIT_API_TOKEN }, push);
  } catch (e) {
    if (!(e instanceof GitHostError)) throw e;
    // Nothing is enqueued: the delivery fails visibly in GitHub's log and can be redelivered.
    const headers = e.retryAfterSeconds === undefined ? undefined : { "retry-after": String(e.retryAfterSeconds) };
    return c.json({ error: { code: "git_host_unavailable", message: `the changed files could not be listed: ${e.message}` } }, 503, headers);
  }
  const plan = planPaths(changes);

  const jobs: { projectId: string; jobId: string }[] = [];
  for (const p of following) {
    if (plan.seen === 0) {
      skipped.push({ projectId: p.projectId, reason: "the push changes no files" });
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
    await runBatch(db, insertJobStatements(db, job, messages));
    await enqueue(ingestDeps(c.env), jobId, messages);
    jobs.push({ projectId: p.projectId, jobId });
  }
  return c.json({ jobs, skipped }, jobs.length > 0 ? 202 : 200);
});

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
