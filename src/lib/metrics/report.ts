/**
 * The metrics report: the rows a store answered (sums per day, metric and bucket) turned into the
 * spec's numbers per day and over the whole range. A number with nothing measured behind it is null.
 */
import { bucketBounds, type Metric } from "./events";
import type { MetricRow } from "./store";

export type MetricsNumbers = {
  assemblies: number;
  latencyMs: { p50: number; p95: number } | null;
  utilization: number | null;
  hotWindowHitRate: number | null;
  modelCalls: number;
  tokensPerCall: number | null;
  costPerCallUsd: number | null;
  requests: number;
  errorRate: number | null;
  clientErrorRate: number | null;
  recall: number | null;
  approvedChangedFiles: number;
};

const round = (n: number, places: number): number => Math.round(n * 10 ** places) / 10 ** places;
const ratio = (num: number, den: number, places = 4): number | null => (den > 0 ? round(num / den, places) : null);

/** The q-quantile of a latency histogram, linear within its bucket. */
export function percentile(histogram: ReadonlyMap<number, number>, q: number): number | null {
  const buckets = [...histogram.entries()].filter(([, n]) => n > 0).sort(([a], [b]) => a - b);
  const total = buckets.reduce((n, [, c]) => n + c, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (const [bucket, count] of buckets) {
    if (seen + count >= rank) {
      const [low, high] = bucketBounds(bucket);
      return round(low + (high - low) * ((rank - seen) / count), 2);
    }
    seen += count;
  }
  return null;
}

/** The numbers of a set of rows (a day's, or the whole range's). */
export function numbersOf(rows: readonly MetricRow[]): MetricsNumbers {
  const of = (metric: Metric) => rows.filter((r) => r.metric === metric);
  const count = (metric: Metric) => of(metric).reduce((n, r) => n + r.count, 0);
  const sum = (metric: Metric) => of(metric).reduce((n, r) => n + r.sum, 0);
  const histogram = new Map<number, number>();
  for (const r of of("assembly.latency_ms")) histogram.set(r.bucket, (histogram.get(r.bucket) ?? 0) + r.count);
  const p50 = percentile(histogram, 0.5);
  const p95 = percentile(histogram, 0.95);
  const requests = of("requests");
  const total = requests.reduce((n, r) => n + r.count, 0);
  const inClass = (c: number) => requests.filter((r) => r.bucket === c).reduce((n, r) => n + r.count, 0);
  const calls = count("model.prompt_tokens");
  return {
    assemblies: count("assembly.latency_ms"),
    latencyMs: p50 === null || p95 === null ? null : { p50, p95 },
    utilization: ratio(sum("assembly.utilization"), count("assembly.utilization")),
    hotWindowHitRate: ratio(sum("hot_window.reused"), count("hot_window.reused")),
    modelCalls: calls,
    tokensPerCall: ratio(sum("model.prompt_tokens") + sum("model.completion_tokens"), calls, 1),
    costPerCallUsd: ratio(sum("model.cost_usd"), calls, 6),
    requests: total,
    errorRate: ratio(inClass(5), total),
    clientErrorRate: ratio(inClass(4), total),
    recall: ratio(sum("recall.in_context"), count("recall.in_context")),
    approvedChangedFiles: count("recall.in_context"),
  };
}

/** Every day of the range (days without rows included, so charts keep their x axis), and the totals. */
export function metricsReport(rows: readonly MetricRow[], range: { from: string; to: string; projectId?: string | undefined }) {
  const days: string[] = [];
  for (let t = Date.parse(`${range.from}T00:00:00Z`); t <= Date.parse(`${range.to}T00:00:00Z`); t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return {
    from: range.from,
    to: range.to,
    projectId: range.projectId ?? null,
    totals: numbersOf(rows),
    days: days.map((day) => ({ day, ...numbersOf(rows.filter((r) => r.day === day)) })),
  };
}
export type MetricsReport = ReturnType<typeof metricsReport>;
