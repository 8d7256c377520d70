/**
 * Which metrics store this deployment has, from its bindings: the Analytics Engine dataset (`METRICS`,
 * production only) or the D1 table. Entry points call these once per request or object.
 */
import { AppError } from "../errors";
import { openDb } from "../storage";
import { AnalyticsEngineRecorder } from "./analytics-engine";
import { AnalyticsSqlReader } from "./analytics-sql";
import { D1MetricsStore } from "./d1-store";
import type { MetricsReader, MetricsRecorder } from "./store";

export type MetricsBindings = Pick<Env, "DB" | "METRICS" | "CF_ACCOUNT_ID" | "CF_ANALYTICS_TOKEN">;

export function metricsRecorder(env: MetricsBindings): MetricsRecorder {
  return env.METRICS ? new AnalyticsEngineRecorder(env.METRICS) : new D1MetricsStore(openDb(env.DB));
}

/** The reader; with the dataset bound but no SQL API credentials, metrics are written and cannot be read (503). */
export function metricsReader(env: MetricsBindings): MetricsReader {
  if (!env.METRICS) return new D1MetricsStore(openDb(env.DB));
  if (!env.CF_ACCOUNT_ID || !env.CF_ANALYTICS_TOKEN) {
    throw new AppError(503, "metrics_unavailable", "reading metrics needs the CF_ACCOUNT_ID and CF_ANALYTICS_TOKEN secrets (docs/deploy.md)");
  }
  return new AnalyticsSqlReader({ accountId: env.CF_ACCOUNT_ID, token: env.CF_ANALYTICS_TOKEN });
}
