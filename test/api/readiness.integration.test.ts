/** GET /health: each dependency's state, ingestion lag and stalls, and nothing that names a tenant or a host. */
import { env } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { readiness } from "../../src/lib/health/readiness";
import { api, json } from "../support/api";

type Report = {
  ok: boolean;
  status: string;
  checks: Record<string, { ok?: boolean; state?: string; configured?: boolean; oldestQueuedSeconds?: number | null; stalledBatches?: number }>;
};

describe("readiness", () => {
  it("answers every check without a token, and reveals no address, key or id", async () => {
    const res = await api("/health", { token: "" });
    const text = await res.clone().text();
    const report = await json<Report>(res, 200);
    expect(report.checks.d1).toMatchObject({ ok: true });
    expect(report.checks.r2).toMatchObject({ ok: true });
    expect(report.checks.sandbox).toMatchObject({ ok: true, state: "local" });
    expect(report.checks.model).toEqual({ configured: true });
    const runner = new URL(inject("sandboxRunner").url);
    for (const secret of [runner.host, "http", "test-anthropic-key", "prj_", "org_"]) expect(text).not.toContain(secret);
  });

  it("reports a batch waiting for long as lag and a stalled one as stalled, and is down without the catalog", async () => {
    const now = Date.now();
    const jobId = `job_${crypto.randomUUID().replace(/-/g, "")}`;
    await env.DB.prepare(
      "INSERT INTO ingest_jobs (job_id, project_id, org_id, source, batch_count, files_total, files_unchanged, files_ignored, created_at) VALUES (?, 'prj_lag', 'org_default', 'upload', 1, 1, 0, 0, ?)",
    )
      .bind(jobId, now - 3_600_000)
      .run();
    await env.DB.prepare("INSERT INTO job_batches (job_id, seq, status, updated_at, stalled_since) VALUES (?, 0, 'queued', ?, ?)")
      .bind(jobId, now - 1_800_000, now - 1_800_000)
      .run();
    const deps = { d1: env.DB, bucket: env.CHUNKS, sandbox: { kind: "absent" as const }, modelConfigured: false, now };
    const report = await readiness(deps);
    expect(report.status).toBe("degraded");
    expect(report.checks.queue.oldestQueuedSeconds).toBeGreaterThanOrEqual(1800);
    expect(report.checks.queue.stalledBatches).toBeGreaterThanOrEqual(1);
    expect(report.checks.queue.ok).toBe(false);
    await env.DB.prepare("DELETE FROM job_batches WHERE job_id = ?").bind(jobId).run();

    const broken = {
      ...deps,
      d1: {
        prepare: () => ({ first: () => new Promise(() => undefined), bind: () => ({ first: () => new Promise(() => undefined) }) }),
      } as unknown as D1Database,
    };
    const down = await readiness(broken);
    expect(down).toMatchObject({ ok: false, status: "down", checks: { d1: { ok: false } } });
  });
});
