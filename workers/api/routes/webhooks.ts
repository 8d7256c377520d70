/** GitHub push webhooks: authenticated by HMAC-SHA256 of the body with the project's secret, not a bearer token. */
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { constantTimeEqual, hmacSha256Hex, newId } from "../../../src/lib/crypto/hash";
import { AppError } from "../../../src/lib/errors";
import { netChanges, PushEvent } from "../../../src/lib/git-host";
import { enqueue, type IngestMessage, insertJobStatements, runBatch } from "../../../src/lib/ingest";
import { openDb, tables } from "../../../src/lib/storage";
import type { AppEnv } from "../types";
import { parseWith } from "../validate";

// GitHub caps webhook payloads at 25 MB.
const MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;
// Paths per fetch message: each is one contents request, kept well inside a consumer's subrequest budget.
const PATHS_PER_MESSAGE = 50;

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

  const { upserts, removals } = netChanges(push);
  const jobs: { projectId: string; jobId: string }[] = [];
  const skipped: { projectId: string; reason: string }[] = [];
  for (const p of verified) {
    const branch = p.repoBranch ?? push.repository.default_branch ?? push.repository.master_branch ?? "main";
    if (push.ref !== `refs/heads/${branch}`) {
      skipped.push({ projectId: p.projectId, reason: `push to ${push.ref}, project follows refs/heads/${branch}` });
      continue;
    }
    if (upserts.length + removals.length === 0) {
      skipped.push({ projectId: p.projectId, reason: "the push changes no files" });
      continue;
    }
    const jobId = newId("job");
    const messages: IngestMessage[] = [];
    for (let i = 0; i < upserts.length; i += PATHS_PER_MESSAGE) {
      messages.push({
        kind: "git",
        jobId,
        projectId: p.projectId,
        seq: messages.length,
        repo: push.repository.full_name,
        ref: push.after,
        paths: upserts.slice(i, i + PATHS_PER_MESSAGE),
      });
    }
    for (let i = 0; i < removals.length; i += 400) {
      messages.push({ kind: "remove", jobId, projectId: p.projectId, seq: messages.length, paths: removals.slice(i, i + 400) });
    }
    const job = {
      jobId,
      projectId: p.projectId,
      orgId: p.orgId,
      source: "webhook" as const,
      createdAt: Date.now(),
      filesTotal: upserts.length + removals.length,
      filesUnchanged: 0,
      filesIgnored: 0,
    };
    await runBatch(db, insertJobStatements(db, job, messages.length));
    await enqueue({ db, queue: c.env.INGEST_QUEUE }, jobId, messages);
    jobs.push({ projectId: p.projectId, jobId });
  }
  return c.json({ jobs, skipped }, jobs.length > 0 ? 202 : 200);
});
