import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { stagingKey } from "../../src/lib/ingest";
import worker from "../../workers/index";
import { retryDelaySeconds } from "../../workers/ingest/consumer";
import { api, createProject, json, waitForJob } from "../support/api";
import { tarGz } from "../support/archives";

async function deliver(queue: string, bodies: unknown[], attempts = 1) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `m${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

async function newJob(projectId: string, batchCount: number): Promise<string> {
  const jobId = `job_${crypto.randomUUID().replace(/-/g, "")}`;
  await env.DB.prepare(
    "INSERT INTO ingest_jobs (job_id, project_id, org_id, source, batch_count, files_total, files_unchanged, files_ignored, created_at) VALUES (?, ?, 'org_test', 'webhook', ?, 1, 0, 0, ?)",
  )
    .bind(jobId, projectId, batchCount, Date.now())
    .run();
  for (let seq = 0; seq < batchCount; seq++)
    await env.DB.prepare("INSERT INTO job_batches (job_id, seq, status) VALUES (?, ?, 'queued')").bind(jobId, seq).run();
  return jobId;
}

async function snapshot(projectId: string) {
  const chunks = await env.DB.prepare("SELECT chunk_id, sha256 FROM chunks WHERE project_id = ? ORDER BY chunk_id").bind(projectId).all();
  const objects = await env.CHUNKS.list({ prefix: `projects/${projectId}/` });
  return { chunks: chunks.results, objects: objects.objects.map((o) => o.key).sort() };
}

describe("ingestion queue consumer", () => {
  it("treats a message delivered twice as one: no duplicate rows, objects or counts", async () => {
    const projectId = await createProject();
    const body = await tarGz([
      { path: "a.ts", content: "export const a = 1;\n".repeat(300) },
      { path: "b.md", content: "# b\n" },
    ]);
    const { jobId } = await json<{ jobId: string }>(
      await api(`/api/projects/${projectId}/ingest`, { method: "POST", body, headers: { "content-type": "application/gzip" } }),
      202,
    );
    const before = await waitForJob(jobId);
    const state = await snapshot(projectId);
    expect(state.chunks.length).toBeGreaterThan(0);

    const again = { kind: "staged", jobId, projectId, seq: 0, key: stagingKey(projectId, jobId, 0), ignored: [] };
    const result = await deliver("winky-ingest", [again, again]);
    expect(result.explicitAcks.length).toBe(2);
    expect(result.retryMessages).toEqual([]);
    expect(await snapshot(projectId)).toEqual(state);
    expect(await waitForJob(jobId)).toEqual(before);
  });

  it("records a failed attempt and asks for a retry with backoff; the dead-letter consumer fails the job visibly", async () => {
    const projectId = await createProject();
    // Fetched only while the project is linked to the repository the message names.
    await env.DB.prepare("UPDATE projects SET repo_full_name = 'acme/down' WHERE project_id = ?").bind(projectId).run();
    const jobId = await newJob(projectId, 1);
    const msg = { kind: "git", jobId, projectId, seq: 0, repo: "acme/down", ref: "abc123", paths: ["fail-500/a.ts"] };

    const first = await deliver("winky-ingest", [msg], 1);
    expect(first.retryMessages).toEqual([{ msgId: expect.any(String) }]);
    const third = await deliver("winky-ingest", [msg], 3);
    expect(third.retryMessages).toEqual([{ msgId: expect.any(String) }]);
    expect([1, 2, 3].map(retryDelaySeconds)).toEqual([2, 8, 32]);
    const row = await env.DB.prepare("SELECT status, attempts, last_error FROM job_batches WHERE job_id = ?")
      .bind(jobId)
      .first<{ status: string; attempts: number; last_error: string }>();
    expect(row).toMatchObject({ status: "queued", attempts: 2 });
    expect(row?.last_error).toContain("git host answered 500");
    expect((await waitForJob(jobId, undefined, 1).catch((e: Error) => e.message)) as string).toContain("running");

    const dead = await deliver("winky-ingest-dlq", [msg]);
    expect(dead.explicitAcks.length).toBe(1);
    const job = await waitForJob(jobId);
    expect(job.status).toBe("failed");
    expect(job.errors).toEqual([{ message: expect.stringMatching(/batch 0 failed after 2 attempts: GitHostError: git host answered 500/) }]);
  });

  it("fails at once a git message naming a repository the project is not linked to, fetching nothing", async () => {
    const projectId = await createProject();
    await env.DB.prepare("UPDATE projects SET repo_full_name = 'acme/mine' WHERE project_id = ?").bind(projectId).run();
    const jobId = await newJob(projectId, 1);
    const msg = { kind: "git", jobId, projectId, seq: 0, repo: "victim/private", ref: "a".repeat(40), paths: ["keys.txt"] };
    const result = await deliver("winky-ingest", [msg]);
    expect(result.retryMessages).toEqual([]);
    const row = await env.DB.prepare("SELECT last_error FROM job_batches WHERE job_id = ?").bind(jobId).first<{ last_error: string }>();
    expect(row?.last_error).toContain("no longer linked to victim/private");
    const log = (await (await fetch(`${env.GIT_API_BASE_URL}/__log`)).json()) as { url: string }[];
    expect(log.filter((r) => r.url.includes("victim/private"))).toEqual([]);
  });

  it("dead-letters at once a message whose work can never succeed, and a message that fails validation", async () => {
    const projectId = await createProject();
    const jobId = await newJob(projectId, 1);
    const missing = { kind: "staged", jobId, projectId, seq: 0, key: "staging/none.json", ignored: [] };
    const result = await deliver("winky-ingest", [missing, { kind: "bogus" }]);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks.length).toBe(2);
    const row = await env.DB.prepare("SELECT attempts, last_error FROM job_batches WHERE job_id = ?")
      .bind(jobId)
      .first<{ attempts: number; last_error: string }>();
    expect(row?.last_error).toContain("staged batch staging/none.json is missing");
    // The forwarded dead letter reaches the DLQ consumer through the real local queue.
    const job = await waitForJob(jobId, undefined, 30_000);
    expect(job.status).toBe("failed");
  });
});
