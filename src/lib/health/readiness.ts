/**
 * Readiness: whether each dependency answers, for load balancers and operators. Unauthenticated, so it
 * says nothing about tenants or configuration — no ids, URLs, hosts or error texts, only states and times.
 */
import { withDeadline } from "../resilience/deadline";

export type Check = { ok: boolean; ms: number; state?: string };
export type Readiness = {
  ok: boolean;
  status: "ok" | "degraded" | "down";
  checks: {
    d1: Check;
    r2: Check;
    queue: Check & { oldestQueuedSeconds: number | null; stalledBatches: number };
    sandbox: Check;
    model: { configured: boolean };
  };
};

// A health probe answers quickly or says the dependency is not answering.
const PROBE_MS = 2_000;
// Ingestion is lagging when a batch has waited this long.
const LAG_WARN_SECONDS = 600;

async function timed<T>(run: () => Promise<T>): Promise<{ ok: boolean; ms: number; value?: T }> {
  const t0 = Date.now();
  try {
    const value = await withDeadline("a readiness probe", PROBE_MS, run());
    return { ok: true, ms: Date.now() - t0, value };
  } catch {
    return { ok: false, ms: Date.now() - t0 };
  }
}

export type ReadinessDeps = {
  d1: D1Database;
  bucket: R2Bucket;
  /** `container` when the production sandbox is bound, a probe of the local runner, or absent. */
  sandbox: { kind: "container" } | { kind: "local"; probe: () => Promise<boolean> } | { kind: "absent" };
  modelConfigured: boolean;
  now: number;
};

export async function readiness(deps: ReadinessDeps): Promise<Readiness> {
  const since = deps.now - 24 * 60 * 60 * 1000;
  const [d1, r2, queue, sandbox] = await Promise.all([
    timed(() => deps.d1.prepare("SELECT 1 AS one").first()),
    timed(() => deps.bucket.head("health/probe")),
    timed(() =>
      deps.d1
        .prepare(
          `SELECT min(coalesce(b.updated_at, j.created_at)) AS oldest, sum(b.stalled_since IS NOT NULL) AS stalled
           FROM ingest_jobs j JOIN job_batches b ON b.job_id = j.job_id
           WHERE j.created_at > ?1 AND b.status = 'queued'`,
        )
        .bind(since)
        .first<{ oldest: number | null; stalled: number | null }>(),
    ),
    deps.sandbox.kind === "local" ? timed(deps.sandbox.probe) : Promise.resolve({ ok: deps.sandbox.kind === "container", ms: 0, value: true }),
  ]);
  const oldest = queue.value?.oldest ?? null;
  const oldestQueuedSeconds = oldest === null ? null : Math.max(0, Math.round((deps.now - oldest) / 1000));
  const stalledBatches = queue.value?.stalled ?? 0;
  const queueOk = queue.ok && stalledBatches === 0 && (oldestQueuedSeconds ?? 0) < LAG_WARN_SECONDS;
  const sandboxOk = sandbox.ok && sandbox.value !== false;
  const checks: Readiness["checks"] = {
    d1: { ok: d1.ok, ms: d1.ms },
    r2: { ok: r2.ok, ms: r2.ms },
    queue: { ok: queueOk, ms: queue.ms, oldestQueuedSeconds, stalledBatches },
    sandbox: { ok: sandboxOk, ms: sandbox.ms, state: deps.sandbox.kind },
    model: { configured: deps.modelConfigured },
  };
  const status = !d1.ok || !r2.ok ? "down" : queueOk && sandboxOk && deps.modelConfigured ? "ok" : "degraded";
  return { ok: status !== "down", status, checks };
}
