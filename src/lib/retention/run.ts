/** The scheduled maintenance: retention first (it turns expired rows into garbage), then garbage collection. */
import { forgetDeliveries } from "../ingest/enqueue-push";
import { forgetMetrics, METRICS_RETENTION_DAYS } from "../metrics";
import { type ExpireDeps, type ExpireReport, expireRows } from "./expire";
import { collectGarbage, type GcReport } from "./gc";
import { DAY_MS } from "./policy";
import { type StagingReport, sweepStaging, sweepUploads, type UploadsReport } from "./sweep";

export type RetentionOptions = { now: number; orgId?: string; projectId?: string };

export type RetentionReport = { rows: ExpireReport; staging: StagingReport; uploads: UploadsReport; deliveries: number; metrics: number };

/**
 * One bounded retention pass: expired rows of one page of orgs, one page of staged batches, idle
 * uploads, webhook delivery ids past their 7 days, local metrics past METRICS_RETENTION_DAYS. `orgId` and `projectId` narrow it to one org's rows and one project's keys.
 */
export async function enforceRetention(deps: ExpireDeps, opts: RetentionOptions): Promise<RetentionReport> {
  const scope = { now: opts.now, ...(opts.projectId ? { projectId: opts.projectId } : {}) };
  const rows = await expireRows(deps, { now: opts.now, ...(opts.orgId ? { orgId: opts.orgId } : {}) });
  const staging = await sweepStaging(deps, scope);
  const uploads = await sweepUploads(deps, scope);
  const deliveries = await forgetDeliveries(deps.db, opts.now);
  const metrics = await forgetMetrics(deps.db, new Date(opts.now - METRICS_RETENTION_DAYS * DAY_MS).toISOString().slice(0, 10));
  return { rows, staging, uploads, deliveries, metrics };
}

/**
 * What the cron runs every 15 minutes; each step does a bounded amount of work and keeps its cursor.
 * Garbage collection runs even when retention failed (a failure is thrown after both have run).
 */
export async function runMaintenance(deps: ExpireDeps, now: number): Promise<{ retention: RetentionReport; gc: GcReport }> {
  const [retention] = await Promise.allSettled([enforceRetention(deps, { now })]);
  const [gc] = await Promise.allSettled([collectGarbage(deps, { now })]);
  if (retention.status === "rejected" || gc.status === "rejected") {
    const errors = [retention, gc].flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    throw new AggregateError(errors, "maintenance failed");
  }
  return { retention: retention.value, gc: gc.value };
}
