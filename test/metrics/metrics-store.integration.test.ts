/**
 * The metrics interface: the same contract against the D1 store (dev, tests) and against the production
 * pair, the Analytics Engine recorder with the SQL API reader, here over a fake dataset whose points a fake
 * SQL API sums as the real one would. Then the report's arithmetic on known rows.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  AnalyticsEngineRecorder,
  AnalyticsSqlReader,
  D1MetricsStore,
  forgetMetrics,
  type MetricEvent,
  type MetricRow,
  type MetricsReader,
  type MetricsRecorder,
  metricsQuery,
  metricsReport,
  percentile,
  recordQuietly,
} from "../../src/lib/metrics";
import { openDb, tables } from "../../src/lib/storage";

const DAY = "2026-03-04";
const AT = Date.parse(`${DAY}T12:00:00Z`);

/** A dataset that keeps its points, and a SQL API over them that groups and sums like the query asks. */
function fakeAnalyticsEngine(day: string) {
  const points: AnalyticsEngineDataPoint[] = [];
  const dataset: AnalyticsEngineDataset = { writeDataPoint: (p) => void points.push(p ?? {}) };
  const send: typeof fetch = async (_url, init) => {
    const query = String(init?.body);
    const org = /index1 = '([^']+)'/.exec(query)?.[1];
    const project = /blob3 = '([^']+)'/.exec(query)?.[1];
    const rows = new Map<string, MetricRow>();
    for (const p of points) {
      const [metric, orgId, projectId] = (p.blobs ?? []) as string[];
      const [bucket = 0, count = 0, sum = 0] = p.doubles ?? [];
      if (orgId !== org || (project && projectId !== project) || !metric) continue;
      const key = `${metric}/${bucket}`;
      const row = rows.get(key) ?? { day, metric, bucket, count: 0, sum: 0 };
      rows.set(key, { ...row, count: row.count + count, sum: row.sum + sum });
    }
    return Response.json({ data: [...rows.values()], meta: [], rows: rows.size });
  };
  return { recorder: new AnalyticsEngineRecorder(dataset), reader: new AnalyticsSqlReader({ accountId: "acc", token: "t" }, send), points };
}

const IMPLEMENTATIONS: [string, () => { recorder: MetricsRecorder; reader: MetricsReader }][] = [
  [
    "D1",
    () => {
      const store = new D1MetricsStore(openDb(env.DB), () => AT);
      return { recorder: store, reader: store };
    },
  ],
  ["Analytics Engine", () => fakeAnalyticsEngine(DAY)],
];

describe.each(IMPLEMENTATIONS)("the %s metrics store", (_name, make) => {
  it("answers the sums of one org's events, per project or for the whole org", async () => {
    const { recorder, reader } = make();
    const org = `org_${crypto.randomUUID().slice(0, 8)}`;
    const events: MetricEvent[] = [
      { kind: "assembly", orgId: org, projectId: "p1", latencyMs: 10, utilization: 0.5 },
      { kind: "assembly", orgId: org, projectId: "p2", latencyMs: 100, utilization: 1 },
      { kind: "hot_window", orgId: org, projectId: "p1", reused: 3, added: 1 },
      { kind: "model_call", orgId: org, projectId: "p1", promptTokens: 900, completionTokens: 100, costUsd: 0.01 },
      { kind: "request", orgId: org, projectId: null, status: 200 },
      { kind: "request", orgId: org, projectId: "p1", status: 503 },
      { kind: "recall", orgId: org, projectId: "p1", changedFiles: 4, inContext: 3 },
      { kind: "assembly", orgId: "org_other", projectId: "p1", latencyMs: 5000, utilization: 0 },
    ];
    await recorder.record(events);
    const all = metricsReport(await reader.read({ orgId: org, from: DAY, to: DAY }), { from: DAY, to: DAY }).totals;
    expect(all).toMatchObject({ assemblies: 2, utilization: 0.75, hotWindowHitRate: 0.75, modelCalls: 1, tokensPerCall: 1000, costPerCallUsd: 0.01 });
    expect(all).toMatchObject({ requests: 2, errorRate: 0.5, clientErrorRate: 0, recall: 0.75, approvedChangedFiles: 4 });
    const p1 = metricsReport(await reader.read({ orgId: org, from: DAY, to: DAY, projectId: "p1" }), { from: DAY, to: DAY }).totals;
    expect(p1).toMatchObject({ assemblies: 1, utilization: 0.5, requests: 1, errorRate: 1 });
    // Latency percentiles come from buckets a quarter wide: within 25% of the true value.
    expect(p1.latencyMs?.p50).toBeGreaterThanOrEqual(8);
    expect(p1.latencyMs?.p50).toBeLessThanOrEqual(12.5);
  });

  it("answers nothing for an org without events", async () => {
    const { reader } = make();
    expect(await reader.read({ orgId: "org_none", from: DAY, to: DAY })).toEqual([]);
  });
});

describe("the D1 metrics store", () => {
  it("keeps one row per org, day, project, metric and bucket however many events arrive", async () => {
    const store = new D1MetricsStore(openDb(env.DB), () => AT);
    const org = `org_${crypto.randomUUID().slice(0, 8)}`;
    const one: MetricEvent = { kind: "assembly", orgId: org, projectId: "p", latencyMs: 40, utilization: 0.9 };
    for (let i = 0; i < 5; i++) await store.record([one, one, one, one]);
    const rows = await env.DB.prepare("SELECT count, sum FROM metrics_daily WHERE org_id = ? ORDER BY metric").bind(org).all();
    expect(rows.results).toEqual([
      { count: 20, sum: 800 },
      { count: 20, sum: expect.closeTo(18, 6) },
    ]);
  });

  it("forgets days before the cutoff, a bounded page at a time", async () => {
    const db = openDb(env.DB);
    const org = `org_${crypto.randomUUID().slice(0, 8)}`;
    const e: MetricEvent = { kind: "request", orgId: org, projectId: null, status: 200 };
    await new D1MetricsStore(db, () => Date.parse("2020-01-01T00:00:00Z")).record([e]);
    await new D1MetricsStore(db, () => AT).record([e]);
    expect(await forgetMetrics(db, "2021-01-01")).toBeGreaterThanOrEqual(1);
    const left = await db.select().from(tables.metricsDaily).all();
    expect(left.filter((r) => r.orgId === org).map((r) => r.day)).toEqual([DAY]);
  });

  it("never fails the caller when the store fails", async () => {
    const broken: MetricsRecorder = { record: () => Promise.reject(new Error("D1 is down")) };
    await expect(recordQuietly(broken, [{ kind: "request", orgId: "o", projectId: null, status: 200 }])).resolves.toBeUndefined();
  });
});

describe("the Analytics Engine SQL query", () => {
  it("names the org as the index, weights by the sample interval, and refuses values it cannot quote", () => {
    const q = metricsQuery({ orgId: "org_a", from: "2026-03-01", to: "2026-03-04", projectId: "prj_b" });
    expect(q).toContain("index1 = 'org_a'");
    expect(q).toContain("blob3 = 'prj_b'");
    expect(q).toContain("SUM(_sample_interval * double2)");
    // UTC days, `to` included: up to the start of the next day (a month's end rolls over).
    expect(q).toContain("timestamp >= toDateTime('2026-03-01 00:00:00') AND timestamp < toDateTime('2026-03-05 00:00:00')");
    expect(metricsQuery({ orgId: "o", from: "2026-02-28", to: "2026-02-28" })).toContain("toDateTime('2026-03-01 00:00:00')");
    expect(() => metricsQuery({ orgId: "x' OR 1=1 --", from: "2026-03-01", to: "2026-03-04" })).toThrow(/plain identifiers/);
  });
});

describe("percentile", () => {
  it("is null for no data and stays inside the bucket it falls in", () => {
    expect(percentile(new Map(), 0.5)).toBeNull();
    // All in bucket 1 ([1, 1.25) ms): every percentile lies within it.
    const p = percentile(new Map([[1, 10]]), 0.95);
    expect(p).toBeGreaterThanOrEqual(1);
    expect(p).toBeLessThanOrEqual(1.25);
  });
});
