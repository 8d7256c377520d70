/** GET /api/metrics: the spec's metrics per UTC day (the same range rules as GET /api/usage). */
import { z } from "zod";
import { UsageQuery } from "../usage/meter";

export const MetricsQuery = UsageQuery;

const Rate = z.number().min(0).max(1).nullable();
const MetricsNumbers = z.object({
  assemblies: z.number().int().describe("context assemblies (API and sessions)"),
  latencyMs: z.object({ p50: z.number(), p95: z.number() }).nullable().describe("assembly wall time; from buckets 25% wide"),
  utilization: Rate.describe("mean share of the token budget an assembly filled"),
  hotWindowHitRate: Rate.describe("blocks of session assemblies served from the hot window / all their blocks"),
  modelCalls: z.number().int(),
  tokensPerCall: z.number().nullable().describe("prompt + completion tokens per model call"),
  costPerCallUsd: z.number().nullable(),
  requests: z.number().int().describe("API requests answered to a key"),
  errorRate: Rate.describe("5xx answers / requests"),
  clientErrorRate: Rate.describe("4xx answers / requests"),
  recall: Rate.describe("approved generations' changed files that were in their context / all their changed files"),
  approvedChangedFiles: z.number().int(),
});

export const MetricsReport = z.object({
  from: z.string(),
  to: z.string(),
  projectId: z.string().nullable(),
  totals: MetricsNumbers,
  days: z.array(MetricsNumbers.extend({ day: z.string() })),
});
