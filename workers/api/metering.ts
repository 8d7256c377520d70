/** What routes add to the caller's usage and quota checks: the key and org come from the request. */
import type { Context } from "hono";
import { type MetricEvent, metricsRecorder, recordQuietly } from "../../src/lib/metrics";
import { openDb } from "../../src/lib/storage";
import { checkQuota, type QuotaKind, recordUsage, type Use } from "../../src/lib/usage";
import type { AppEnv } from "./types";

/**
 * Refuses the request when a quota of `kind` is used up; passes the warnings of quotas at 80% or more on
 * (a header, and returned for a session to send as a `quota` event).
 */
export async function guardQuota(c: Context<AppEnv>, kind: QuotaKind, projectId?: string): Promise<string[]> {
  return passOnWarnings(c, await checkQuota(openDb(c.env.DB), c.var.orgId, kind, projectId ? { projectId } : {}));
}

/** Passes on the warnings of a quota check read with others (`quotaRead`). */
export function passOnWarnings(c: Context<AppEnv>, warnings: string[]): string[] {
  if (warnings.length > 0) c.header("x-winky-quota-warning", warnings.join("; "));
  return warnings;
}

/** Adds to the caller's usage after the answer (a failure to record is logged, never the request's failure). */
export function meter(c: Context<AppEnv>, use: Omit<Use, "orgId" | "keyId">): void {
  const entry = { ...use, orgId: c.var.orgId, keyId: c.var.key.keyId };
  c.executionCtx.waitUntil(recordUsage(openDb(c.env.DB), entry).catch((e: unknown) => console.error(JSON.stringify({ usage: entry, error: String(e) }))));
}

/** Records metric events after the answer (never the request's failure: see recordQuietly). */
export function measure(c: Context<AppEnv>, events: MetricEvent[]): void {
  c.executionCtx.waitUntil(recordQuietly(metricsRecorder(c.env), events));
}
