/** GET /health: each dependency's state, ingestion lag and stalls, and nothing that names a tenant or a host. */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, inject, it } from "vitest";
import { type Readiness, type ReadinessDeps, readiness } from "../../src/lib/health/readiness";
import { api, json } from "../support/api";

const MINUTE = 60_000;
const jobIds: string[] = [];

/** A job created `ageMs` ago with one batch per entry of `batches`, inserted as the ingest path would. */
async function insertJob(ageMs: number, batches: { status: "queued" | "done"; stalled?: boolean }[]): Promise<string> {
  const now = Date.now();
  const jobId = `job_${crypto.randomUUID().replace(/-/g, "")}`;
  jobIds.push(jobId);
  await env.DB.prepare(
    "INSERT INTO ingest_jobs (job_id, project_id, org_id, source, batch_count, files_total, files_unchanged, files_ignored, created_at) VALUES (?, 'prj_health', 'org_test', 'upload', ?, 1, 0, 0, ?)",
  )
    .bind(jobId, batches.length, now - ageMs)
    .run();
  for (const [seq, b] of batches.entries())
    await env.DB.prepare("INSERT INTO job_batches (job_id, seq, status, updated_at, stalled_since) VALUES (?, ?, ?, ?, ?)")
      .bind(jobId, seq, b.status, now - ageMs, b.stalled ? now - ageMs : null)
      .run();
  return jobId;
}

async function health(status = 200): Promise<{ text: string; report: Readiness }> {
  const res = await api("/health", { token: "" });
  const text = await res.clone().text();
  return { text, report: await json<Readiness>(res, status) };
}

const local: ReadinessDeps = { d1: env.DB, bucket: env.CHUNKS, sandbox: { kind: "container" }, modelConfigured: true, now: 0 };
const never = () => new Promise<never>(() => undefined);

afterEach(async () => {
  for (const jobId of jobIds.splice(0)) {
    await env.DB.prepare("DELETE FROM job_batches WHERE job_id = ?").bind(jobId).run();
    await env.DB.prepare("DELETE FROM ingest_jobs WHERE job_id = ?").bind(jobId).run();
  }
});

describe("GET /health", () => {
  it("answers 200 without a token with every check ok and timed, the sandbox being the test runner", async () => {
    const { report } = await health();
    expect(report).toEqual({
      ok: true,
      status: "ok",
      checks: {
        d1: { ok: true, ms: expect.any(Number) },
        r2: { ok: true, ms: expect.any(Number) },
        queue: { ok: true, ms: expect.any(Number), oldestQueuedSeconds: null, stalledJobs: 0 },
        sandbox: { ok: true, ms: expect.any(Number), state: "local" },
        model: { ok: true, ms: 0, configured: true },
      },
    });
  });

  it("names no address, scheme, key, tenant or job, even while a job lags", async () => {
    const jobId = await insertJob(30 * MINUTE, [{ status: "queued", stalled: true }]);
    const { text } = await health();
    const runner = new URL(inject("sandboxRunner").url);
    const leaks = [
      runner.host,
      `:${runner.port}`,
      "http",
      "test-anthropic-key",
      inject("sandboxRunner").secret,
      "prj_",
      "org_",
      jobId,
      "127.0.0.1",
      "localhost",
    ];
    for (const leak of leaks) expect(text).not.toContain(leak);
  });

  it("reports a batch queued for 30 minutes as lag, and the status as degraded", async () => {
    await insertJob(2 * MINUTE, [{ status: "done" }, { status: "queued" }]);
    await insertJob(30 * MINUTE, [{ status: "done" }, { status: "queued" }]);
    const { report } = await health();
    expect(report.status).toBe("degraded");
    expect(report.checks.queue).toMatchObject({ ok: false, stalledJobs: 0 });
    expect(report.checks.queue.oldestQueuedSeconds).toBeGreaterThanOrEqual(30 * 60);
    expect(report.checks.queue.oldestQueuedSeconds).toBeLessThan(31 * 60);
  });

  it("counts jobs with a stalled batch once each, and not ok even when recent", async () => {
    await insertJob(MINUTE, [
      { status: "queued", stalled: true },
      { status: "queued", stalled: true },
    ]);
    await insertJob(MINUTE, [{ status: "queued", stalled: true }]);
    await insertJob(MINUTE, [{ status: "queued" }]);
    const { report } = await health();
    expect(report.checks.queue).toMatchObject({ ok: false, stalledJobs: 2 });
    expect(report.checks.queue.oldestQueuedSeconds).toBeLessThan(5 * 60);
    expect(report.status).toBe("degraded");
  });

  it("looks only at the last day's jobs and their queued batches", async () => {
    await insertJob(25 * 60 * MINUTE, [{ status: "queued", stalled: true }]);
    await insertJob(40 * MINUTE, [{ status: "done" }]);
    const { report } = await health();
    expect(report.checks.queue).toMatchObject({ ok: true, oldestQueuedSeconds: null, stalledJobs: 0 });
    expect(report.status).toBe("ok");
  });
});

describe("readiness", () => {
  it("is down when D1 or R2 fails or hangs, without repeating the error's text", async () => {
    const failing = {
      prepare: () => {
        throw new Error("connect to https://secret-host.internal:4443 refused");
      },
    } as unknown as D1Database;
    const hanging = { prepare: () => ({ first: never, bind: () => ({ first: never }) }) } as unknown as D1Database;
    const brokenBucket = { head: () => Promise.reject(new Error("bucket at /var/secret/r2 gone")) } as unknown as R2Bucket;

    const noD1 = await readiness({ ...local, now: Date.now(), d1: failing });
    expect(noD1).toMatchObject({ ok: false, status: "down", checks: { d1: { ok: false }, r2: { ok: true }, queue: { ok: false } } });
    expect(JSON.stringify(noD1)).not.toMatch(/secret|https|refused/);

    const slowD1 = await readiness({ ...local, now: Date.now(), d1: hanging });
    expect(slowD1).toMatchObject({ status: "down", checks: { d1: { ok: false } } });
    expect(slowD1.checks.d1.ms).toBeGreaterThanOrEqual(1_900);

    const noR2 = await readiness({ ...local, now: Date.now(), bucket: brokenBucket });
    expect(noR2).toMatchObject({ ok: false, status: "down", checks: { d1: { ok: true }, r2: { ok: false } } });
    expect(JSON.stringify(noR2)).not.toContain("secret");
  });

  it("is degraded, not down, when an optional dependency is missing, unreachable, hanging or slow", async () => {
    const now = Date.now();
    const absent = await readiness({ ...local, now, sandbox: { kind: "absent" }, modelConfigured: false });
    expect(absent).toMatchObject({
      ok: true,
      status: "degraded",
      checks: { sandbox: { ok: false, state: "absent" }, model: { ok: false, configured: false } },
    });

    const container = await readiness({ ...local, now });
    expect(container).toMatchObject({ status: "ok", checks: { sandbox: { ok: true, state: "container" } } });

    const refused = await readiness({ ...local, now, sandbox: { kind: "local", probe: () => Promise.reject(new Error("ECONNREFUSED 127.0.0.1:9")) } });
    expect(refused).toMatchObject({ status: "degraded", checks: { sandbox: { ok: false, state: "local" } } });
    expect(JSON.stringify(refused)).not.toContain("127.0.0.1");

    let aborted = false;
    const stuck = await readiness({
      ...local,
      now,
      sandbox: {
        kind: "local",
        probe: (signal) => {
          signal.addEventListener("abort", () => {
            aborted = true;
          });
          return never();
        },
      },
    });
    expect(stuck).toMatchObject({ status: "degraded", checks: { sandbox: { ok: false } } });
    expect(aborted).toBe(true);

    const slow = await readiness({
      ...local,
      now,
      sandbox: { kind: "local", probe: () => new Promise((resolve) => setTimeout(() => resolve(true), 1_200)) },
    });
    expect(slow).toMatchObject({ status: "degraded", checks: { sandbox: { ok: true } } });
  });
});
