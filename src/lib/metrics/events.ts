/**
 * What the engine measures (the spec's `ai.*` metrics and the dashboards built on them), as events, and
 * how each event becomes increments: one (metric, bucket) pair with a count and a sum. Both stores keep
 * only increments, so every read is the same sums, whichever store answered.
 */

export type MetricEvent =
  /** One context assembly (`ai.context.assemble.time_ms`): wall time around the index and the share of the budget it filled. */
  | { kind: "assembly"; orgId: string; projectId: string; latencyMs: number; utilization: number }
  /** The blocks one session assembly took from its hot window (`reused`) or read from the index (`added`). */
  | { kind: "hot_window"; orgId: string; projectId: string; reused: number; added: number }
  /** One model call (`ai.model.call.promptTokens` / `completionTokens`) and what it cost. */
  | { kind: "model_call"; orgId: string; projectId: string; promptTokens: number; completionTokens: number; costUsd: number }
  /** One answered API request, by status; `projectId` when the request named one. */
  | { kind: "request"; orgId: string; projectId: string | null; status: number }
  /** An approved generation: its changed files, and how many of them were in the context it was given. */
  | { kind: "recall"; orgId: string; projectId: string; changedFiles: number; inContext: number };

export const METRICS = [
  "assembly.latency_ms",
  "assembly.utilization",
  "hot_window.reused",
  "model.prompt_tokens",
  "model.completion_tokens",
  "model.cost_usd",
  "requests",
  "recall.in_context",
] as const;
export type Metric = (typeof METRICS)[number];

export type Increment = { orgId: string; projectId: string; metric: Metric; bucket: number; count: number; sum: number };

/**
 * Latency buckets grow by a quarter each (bucket 0 is under 1 ms; bucket b ≥ 1 is [1.25^(b-1), 1.25^b)),
 * so a percentile read from them is within 25% of the true one with 64 buckets reaching past 20 minutes.
 */
export const LATENCY_GROWTH = 1.25;
export const LATENCY_BUCKETS = 64;

export function latencyBucket(ms: number): number {
  if (!(ms >= 1)) return 0;
  return Math.min(LATENCY_BUCKETS - 1, 1 + Math.floor(Math.log(ms) / Math.log(LATENCY_GROWTH)));
}

/** The bounds [low, high) of a latency bucket, in ms. */
export function bucketBounds(bucket: number): [number, number] {
  if (bucket <= 0) return [0, 1];
  return [LATENCY_GROWTH ** (bucket - 1), LATENCY_GROWTH ** bucket];
}

const finite = (n: number): number => (Number.isFinite(n) ? Math.max(0, n) : 0);

/** The increments an event adds (none for an event that measured nothing, such as an empty hot window). */
export function incrementsOf(e: MetricEvent): Increment[] {
  const at = { orgId: e.orgId, projectId: e.projectId ?? "" };
  switch (e.kind) {
    case "assembly":
      return [
        { ...at, metric: "assembly.latency_ms", bucket: latencyBucket(e.latencyMs), count: 1, sum: finite(e.latencyMs) },
        { ...at, metric: "assembly.utilization", bucket: 0, count: 1, sum: finite(e.utilization) },
      ];
    case "hot_window": {
      const blocks = finite(e.reused) + finite(e.added);
      return blocks > 0 ? [{ ...at, metric: "hot_window.reused", bucket: 0, count: blocks, sum: finite(e.reused) }] : [];
    }
    case "model_call":
      return [
        { ...at, metric: "model.prompt_tokens", bucket: 0, count: 1, sum: finite(e.promptTokens) },
        { ...at, metric: "model.completion_tokens", bucket: 0, count: 1, sum: finite(e.completionTokens) },
        { ...at, metric: "model.cost_usd", bucket: 0, count: 1, sum: finite(e.costUsd) },
      ];
    case "request":
      return [{ ...at, metric: "requests", bucket: Math.floor(e.status / 100), count: 1, sum: 0 }];
    case "recall":
      return e.changedFiles > 0 ? [{ ...at, metric: "recall.in_context", bucket: 0, count: e.changedFiles, sum: Math.min(e.inContext, e.changedFiles) }] : [];
  }
}
