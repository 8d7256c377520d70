/**
 * GET /api/metrics: the spec's metrics per day, from the deployment's metrics store. With `projectId`,
 * one project the key may touch (another org's or one outside the key's list is a 404); without, the
 * whole org, which needs a key not limited to projects (as GET /api/usage).
 */
import { Hono } from "hono";
import { requireOrgWide } from "../../../src/lib/auth";
import { MetricsQuery, MetricsReport } from "../../../src/lib/contract/metrics";
import { metricsReader, metricsReport } from "../../../src/lib/metrics";
import { getProject } from "../../../src/lib/projects/projects";
import { openDb } from "../../../src/lib/storage";
import { reportRange } from "../../../src/lib/usage";
import { need } from "../middleware/auth";
import { describe } from "../openapi";
import type { AppEnv } from "../types";
import { queryOf } from "../validate";

export const metricsRoutes = new Hono<AppEnv>().get(
  "/metrics",
  describe({
    summary: "Assembly latency, utilization, hot-window hit rate, tokens and cost per call, error rate and recall, per UTC day",
    tags: ["metrics"],
    caller: "read",
    responses: { 200: MetricsReport },
  }),
  need("read"),
  queryOf(MetricsQuery),
  async (c) => {
    const q = c.req.valid("query");
    if (q.projectId) await getProject(openDb(c.env.DB), q.projectId, c.var.key);
    else requireOrgWide(c.var.key, "read the org's metrics");
    const range = { ...reportRange(q), projectId: q.projectId };
    const rows = await metricsReader(c.env).read({ orgId: c.var.orgId, ...range });
    c.header("cache-control", "no-store");
    return c.json(metricsReport(rows, range));
  },
);
