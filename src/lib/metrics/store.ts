/**
 * The one interface metrics go through: a recorder that takes events and a reader that answers the sums
 * of a range of days. Production writes to Workers Analytics Engine and reads through its SQL API; dev
 * and tests use a D1 table (src/lib/metrics/d1-store.ts). The entry points choose (./select.ts).
 */
import type { MetricEvent } from "./events";

export interface MetricsRecorder {
  record(events: readonly MetricEvent[]): Promise<void>;
}

/** One day's sum of one (metric, bucket): what both stores answer, the input of the report. */
export type MetricRow = { day: string; metric: string; bucket: number; count: number; sum: number };

export type MetricsRange = { orgId: string; from: string; to: string; projectId?: string | undefined };

export interface MetricsReader {
  /** Days `from` to `to` inclusive (YYYY-MM-DD, UTC) of the org, or of one of its projects. */
  read(range: MetricsRange): Promise<MetricRow[]>;
}

/** Records without ever failing the caller: a store that does not answer is logged, and the request goes on. */
export function recordQuietly(recorder: MetricsRecorder, events: readonly MetricEvent[]): Promise<void> {
  if (events.length === 0) return Promise.resolve();
  return recorder.record(events).catch((e: unknown) => console.error(JSON.stringify({ metrics: events.map((x) => x.kind), error: String(e) })));
}
