import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { checkJob } from "../../src/lib/ingest/watchdog";
import { DeadlineError, withDeadline } from "../../src/lib/resilience/deadline";
import { openDb } from "../../src/lib/storage";
import { api, createProject, json, waitForJob } from "../support/api";

type StalledJob = { status: string; stalledSince: string | null; requeues: number; attempts: number; errors: { message: string }[] };

/** A job of one `remove` batch whose message was lost: the batch row says queued, nothing is in the queue. */
async function lostJob(projectId: string, quietForMs: number): Promise<string> {
  const jobId = `job_${crypto.randomUUID().replace(/-/g, "")}`;
  const at = Date.now() - quietForMs;
  const message = { kind: "remove", jobId, projectId, seq: 0, paths: ["gone.ts"] };
  await env.DB.prepare(
    "INSERT INTO ingest_jobs (job_id, project_id, org_id, source, batch_count, files_total, files_unchanged, files_ignored, created_at) VALUES (?, ?, 'org_test', 'upload', 1, 1, 0, 0, ?)",
  )
    .bind(jobId, projectId, at)
    .run();
  await env.DB.prepare("INSERT INTO job_batches (job_id, seq, status, message, updated_at) VALUES (?, 0, 'queued', ?, ?)")
    .bind(jobId, JSON.stringify(message), at)
    .run();
  return jobId;
}

const deps = () => ({ db: openDb(env.DB), queue: env.INGEST_QUEUE as Queue<unknown> });

describe("the job watchdog", () => {
  it("re-sends the message of a batch that made no progress, and the job then finishes", async () => {
    const projectId = await createProject();
    const jobId = await lostJob(projectId, 10 * 60_000);
    const quiet = await json<StalledJob>(await api(`/api/jobs/${jobId}`), 200);
    expect(quiet).toMatchObject({ status: "queued", stalledSince: null, requeues: 0 });

    const report = await checkJob(deps(), jobId, Date.now());
    expect(report).toEqual({ finished: false, requeued: [0], failed: [] });
    // The re-sent message is consumed like the original would have been.
    const job = await waitForJob(jobId);
    expect(job.status).toBe("done");
    const row = await env.DB.prepare("SELECT requeues, stalled_since FROM job_batches WHERE job_id = ?")
      .bind(jobId)
      .first<{ requeues: number; stalled_since: number }>();
    expect(row?.requeues).toBe(1);
    expect(await checkJob(deps(), jobId, Date.now())).toEqual({ finished: true, requeued: [], failed: [] });
  });

  it("leaves a batch alone while it is recent, shows stalledSince while stalled, and fails it with the reason once the re-sends run out", async () => {
    const projectId = await createProject();
    const jobId = await lostJob(projectId, 60_000);
    const policy = { stallMs: 5 * 60_000, maxRequeues: 0 };
    expect(await checkJob(deps(), jobId, Date.now(), policy)).toEqual({ finished: false, requeued: [], failed: [] });

    // Re-sending is what marks a batch stalled; a message that cannot be re-sent fails at once.
    await env.DB.prepare("UPDATE job_batches SET stalled_since = ?, requeues = 3 WHERE job_id = ?")
      .bind(Date.now() - 20 * 60_000, jobId)
      .run();
    const stalled = await json<StalledJob>(await api(`/api/jobs/${jobId}`), 200);
    expect(stalled.stalledSince).not.toBeNull();
    expect(stalled.requeues).toBe(3);

    const later = Date.now() + 10 * 60_000;
    expect(await checkJob(deps(), jobId, later, { stallMs: 5 * 60_000, maxRequeues: 3 })).toEqual({ finished: false, requeued: [], failed: [0] });
    const failed = await json<StalledJob>(await api(`/api/jobs/${jobId}`), 200);
    expect(failed.status).toBe("failed");
    expect(failed.errors.map((e) => e.message).join("\n")).toMatch(/stalled: no progress for \d+ min after 3 re-sends/);
  });

  it("runs from the job's own alarm until nothing is queued, then forgets the job", async () => {
    const projectId = await createProject();
    const jobId = await lostJob(projectId, 10 * 60_000);
    const stub = env.JOB_WATCHDOG.getByName(jobId);
    await stub.watch(jobId);
    expect(await runInDurableObject(stub, (_o, state) => state.storage.getAlarm())).not.toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await waitForJob(jobId)).status).toBe("done");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, async (_o, state) => [await state.storage.getAlarm(), await state.storage.get("jobId")])).toEqual([null, undefined]);
  });
});

describe("deadlines", () => {
  it("turn a promise that never settles into a retryable DeadlineError naming what was awaited", async () => {
    const never = new Promise<never>(() => undefined);
    await expect(withDeadline("the shard", 20, never)).rejects.toThrow(new DeadlineError("the shard", 20));
    await expect(withDeadline("a quick call", 1000, Promise.resolve(7))).resolves.toBe(7);
  });
});
