/** The local metrics store: increments added to one row per org, day, project, metric and bucket in D1. */
import { and, eq, gte, lte, sql } from "drizzle-orm";
import { type Db, tables } from "../storage";
import { type Increment, incrementsOf, type MetricEvent } from "./events";
import type { MetricRow, MetricsRange, MetricsReader, MetricsRecorder } from "./store";

const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export class D1MetricsStore implements MetricsRecorder, MetricsReader {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number = Date.now,
  ) {}

  async record(events: readonly MetricEvent[]): Promise<void> {
    const day = utcDay(this.clock());
    const m = tables.metricsDaily;
    const upsert = (i: Increment) =>
      this.db
        .insert(m)
        .values({ ...i, day })
        .onConflictDoUpdate({
          target: [m.orgId, m.day, m.projectId, m.metric, m.bucket],
          set: { count: sql`${m.count} + ${i.count}`, sum: sql`${m.sum} + ${i.sum}` },
        });
    const [first, ...rest] = events.flatMap(incrementsOf).map(upsert);
    if (first) await this.db.batch([first, ...rest]);
  }

  async read(range: MetricsRange): Promise<MetricRow[]> {
    const m = tables.metricsDaily;
    return this.db
      .select({ day: m.day, metric: m.metric, bucket: m.bucket, count: sql<number>`sum(${m.count})`, sum: sql<number>`sum(${m.sum})` })
      .from(m)
      .where(and(eq(m.orgId, range.orgId), gte(m.day, range.from), lte(m.day, range.to), range.projectId ? eq(m.projectId, range.projectId) : undefined))
      .groupBy(m.day, m.metric, m.bucket)
      .orderBy(m.day, m.metric, m.bucket)
      .all();
  }
}

/**
 * Days of metrics kept locally: a report spans at most 366 days (src/lib/usage/meter.ts), and a month
 * beyond that lets a year-long report be read a while after its first day. Analytics Engine keeps its
 * own retention (three months) in production.
 */
export const METRICS_RETENTION_DAYS = 400;

/** Deletes up to `limit` rows of days before `beforeDay` (the scheduled maintenance calls it). */
export async function forgetMetrics(db: Db, beforeDay: string, limit = 1000): Promise<number> {
  const result = await db.run(sql`DELETE FROM metrics_daily WHERE rowid IN (SELECT rowid FROM metrics_daily WHERE day < ${beforeDay} LIMIT ${limit})`);
  return result.meta.changes ?? 0;
}
