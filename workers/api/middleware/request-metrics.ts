/**
 * Counts every answered request of a key by status class (the error-rate metric), after the route or the
 * app's onError answered: Hono hands a thrown error to onError at the layer that threw, so the status seen
 * here is the one the client gets. Requests refused before a key is known have no org to count under.
 */
import type { MiddlewareHandler } from "hono";
import { measure } from "../metering";
import type { AppEnv } from "../types";

export function requestMetrics(): MiddlewareHandler<AppEnv> {
  return async function requestMetrics(c, next) {
    await next();
    const key = c.var.key;
    if (key === undefined) return;
    const projectId = c.req.param("projectId") ?? c.var.bodyProjectId ?? c.req.query("projectId") ?? null;
    measure(c, [{ kind: "request", orgId: key.orgId, projectId, status: c.res.status }]);
  };
}
