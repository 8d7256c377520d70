/**
 * The production reader: the Analytics Engine SQL API. A Worker's dataset binding can only write, so
 * reading goes over HTTPS with the account id and an API token holding "Account Analytics: Read"
 * (the `CF_ACCOUNT_ID` and `CF_ANALYTICS_TOKEN` secrets; docs/deploy.md). Rows are weighted by
 * `_sample_interval`, so sums stay right when Analytics Engine samples a busy org. (The newer Analytics SQL
 * binding, `[analytics]`, needs no token but Wrangler 4.145 or later; this repository pins 4.86.)
 */
import { z } from "zod";
import { AppError } from "../errors";
import type { MetricRow, MetricsRange, MetricsReader } from "./store";

export const METRICS_DATASET = "winky_metrics";

const SqlAnswer = z.object({
  data: z.array(z.object({ day: z.string(), metric: z.string(), bucket: z.coerce.number(), count: z.coerce.number(), sum: z.coerce.number() })),
});

// The SQL API takes no bound parameters: every value put in a query is checked against these first.
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The query for a range: one row per day, metric and bucket, summed over the range's data points. */
export function metricsQuery(range: MetricsRange, dataset = METRICS_DATASET): string {
  const ids = [range.orgId, ...(range.projectId ? [range.projectId] : [])];
  if (!ids.every((v) => SAFE_ID.test(v)) || !DAY.test(range.from) || !DAY.test(range.to)) {
    throw new AppError(400, "invalid_request", "ids and days must be plain identifiers and YYYY-MM-DD");
  }
  const end = new Date(Date.parse(`${range.to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return [
    "SELECT formatDateTime(timestamp, '%Y-%m-%d', 'Etc/UTC') AS day, blob1 AS metric, double1 AS bucket,",
    "SUM(_sample_interval * double2) AS count, SUM(_sample_interval * double3) AS sum",
    `FROM ${dataset}`,
    `WHERE index1 = '${range.orgId}'`,
    `AND timestamp >= toDateTime('${range.from} 00:00:00') AND timestamp < toDateTime('${end} 00:00:00')`,
    ...(range.projectId ? [`AND blob3 = '${range.projectId}'`] : []),
    "GROUP BY day, metric, bucket ORDER BY day, metric, bucket FORMAT JSON",
  ].join(" ");
}

export class AnalyticsSqlReader implements MetricsReader {
  constructor(
    private readonly account: { accountId: string; token: string },
    private readonly send: typeof fetch = fetch,
    private readonly base = "https://api.cloudflare.com/client/v4",
  ) {}

  async read(range: MetricsRange): Promise<MetricRow[]> {
    const res = await this.send(`${this.base}/accounts/${this.account.accountId}/analytics_engine/sql`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.account.token}` },
      body: metricsQuery(range),
    });
    if (!res.ok)
      throw new AppError(502, "metrics_unavailable", `the Analytics Engine SQL API answered ${res.status}`, undefined, {
        cause: await res.text(),
      });
    return SqlAnswer.parse(await res.json()).data;
  }
}
