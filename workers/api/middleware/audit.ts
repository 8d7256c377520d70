/**
 * Records every request that changes state, assembles or generates (every method but GET) made with an
 * API key, whatever its outcome, after the route answered. Reads are not recorded; requests without a
 * valid key have no org to record them under (they are refused with 401 before anything happens).
 */
import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { recordAudit } from "../../../src/lib/audit/audit-log";
import { openDb } from "../../../src/lib/storage";
import type { AppEnv } from "../types";

export function auditTrail(): MiddlewareHandler<AppEnv> {
  return async function auditTrail(c, next) {
    await next();
    const key = c.var.key;
    if (c.req.method === "GET" || key === undefined) return;
    // The route that answered; a request that matched none (404 from notFound) is no action.
    const route = matchedRoutes(c).findLast((r) => r.method !== "ALL");
    if (!route) return;
    const targets: Record<string, string> = { ...c.req.param() };
    const projectId = targets.projectId ?? c.var.bodyProjectId ?? null;
    if (projectId) targets.projectId = projectId;
    const entry = {
      orgId: key.orgId,
      actor: "key" as const,
      keyId: key.keyId,
      action: `${c.req.method} ${route.path}`,
      projectId,
      targets,
      requestId: c.var.requestId,
      status: c.res.status,
    };
    c.executionCtx.waitUntil(recordAudit(openDb(c.env.DB), entry).catch((e: unknown) => console.error(JSON.stringify({ audit: entry, error: String(e) }))));
  };
}
