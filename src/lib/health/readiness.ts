/**
 * Readiness: whether each dependency answers, for load balancers and operators. Unauthenticated, so it
 * says nothing about tenants or configuration — no ids, URLs, hosts or error texts, only states and times.
 */
import { withDeadline } from "../resilience/deadline";

export type Check = { ok: boolean; ms: number };
export type SandboxState = "local" | "container" | "absent";
export type Readiness = {
  ok: boolean;
  status: "ok" | "degraded" | "down";
  checks: {
    d1: Check;
    r2: Check;
    queue: Check & { oldestQueuedSeconds: number | null; stalledJobs: number };
    sandbox: Check & { state: SandboxState };
    model: Check & { configured: boolean };
  };
};

/** A probe answers within this or counts as not answering (a load balancer's own timeout is a few seconds). */
export const PROBE_MS = 2_000;
// An answer slower than this still counts, but the whole report says degraded.
const SLOW_MS = 1_000;
// Ingestion lags when a batch has waited this long: a healthy batch is consumed within seconds.
const LAG_WARN_SECONDS = 600;
// The queue check reads the newest jobs of the last day only, so its cost does not grow with the tenant base.
const RECENT_MS = 24 * 60 * 60 * 1000;
const RECENT_JOBS = 5_000;
// R2 answers `null` for a missing key; the answer, not the object, is what is checked.
const R2_PROBE_KEY = "health/probe";

async function timed<T>(run: (signal: AbortSignal) => Promise<T>): Promise<{ ok: boolean; ms: number; value?: T }> {
  const t0 = Date.now();
  const abort = new AbortController();
  try {
    const value = await withDeadline("a readiness probe", PROBE_MS, run(abort.signal));
    return { ok: true, ms: Date.now() - t0, value };
  } catch {
    // The error's text may name a host or a path: only the fact that it failed is reported.
    return { ok: false, ms: Date.now() - t0 };
  } finally {
    abort.abort();
  }
}

export type SandboxProbe = { kind: "container" } | { kind: "local"; probe: (signal: AbortSignal) => Promise<boolean> } | { kind: "absent" };

/** The local runner's probe: its unauthenticated `GET /health` answers 200. */
export function probeRunner(runnerUrl: string): (signal: AbortSignal) => Promise<boolean> {
  return async (signal) => {
    const res = await fetch(`${runnerUrl.replace(/\/+$/, "")}/health`, { signal });
    await res.body?.cancel();
    return res.ok;
  };
}

export type ReadinessDeps = {
  d1: D1Database;
  bucket: R2Bucket;
  /** `container` when the production sandbox is bound (not probed: a container starts per run), the local runner, or absent. */
  sandbox: SandboxProbe;
  modelConfigured: boolean;
  now: number;
};

type QueueRow = { oldest: number | null; stalled: number | null };

/**
 * Ingestion lag among the newest jobs of the last day: the creation time of the oldest job with a batch
 * still queued (a batch waits from the moment its job enqueued it), and how many of those jobs have a
 * batch the watchdog found stalled. `ingest_jobs_created` bounds the jobs read, `job_batches_queued`
 * (partial: queued rows only) the batches.
 */
function queueLag(d1: D1Database, now: number): Promise<QueueRow | null> {
  return d1
    .prepare(
      `SELECT min(j.created_at) AS oldest, count(DISTINCT CASE WHEN b.stalled_since IS NOT NULL THEN j.job_id END) AS stalled
       FROM (SELECT job_id, created_at FROM ingest_jobs WHERE created_at > ?1 ORDER BY created_at DESC LIMIT ?2) j
       JOIN job_batches b ON b.job_id = j.job_id AND b.status = 'queued'`,
    )
    .bind(now - RECENT_MS, RECENT_JOBS)
    .first<QueueRow>();
}

/** Probes every dependency at once; `down` when the catalog (D1) or the chunk store (R2) does not answer. */
export async function readiness(deps: ReadinessDeps): Promise<Readiness> {
  const { sandbox: probe } = deps;
  const [d1, r2, queue, sandbox] = await Promise.all([
    timed(() => deps.d1.prepare("SELECT 1 AS one").first()),
    timed(() => deps.bucket.head(R2_PROBE_KEY)),
    timed(() => queueLag(deps.d1, deps.now)),
    probe.kind === "local" ? timed(probe.probe) : Promise.resolve({ ok: probe.kind === "container", ms: 0, value: true }),
  ]);
  const oldest = queue.value?.oldest ?? null;
  const oldestQueuedSeconds = oldest === null ? null : Math.max(0, Math.round((deps.now - oldest) / 1000));
  const stalledJobs = queue.value?.stalled ?? 0;
  const checks: Readiness["checks"] = {
    d1: { ok: d1.ok, ms: d1.ms },
    r2: { ok: r2.ok, ms: r2.ms },
    queue: { ok: queue.ok && stalledJobs === 0 && (oldestQueuedSeconds ?? 0) < LAG_WARN_SECONDS, ms: queue.ms, oldestQueuedSeconds, stalledJobs },
    sandbox: { ok: sandbox.ok && sandbox.value === true, ms: sandbox.ms, state: probe.kind },
    model: { ok: deps.modelConfigured, ms: 0, configured: deps.modelConfigured },
  };
  const all = Object.values(checks);
  const status = !d1.ok || !r2.ok ? "down" : all.every((c) => c.ok && c.ms < SLOW_MS) ? "ok" : "degraded";
  return { ok: status !== "down", status, checks };
}
