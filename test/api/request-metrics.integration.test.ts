/**
 * The error-rate metric: every answered request of a key is counted by status class, including answers
 * the app's onError made from a thrown error (an AppError's status, or 500 for anything else).
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/lib/errors";
import { D1MetricsStore, metricsReport } from "../../src/lib/metrics";
import { openDb } from "../../src/lib/storage";
import { requestMetrics } from "../../workers/api/middleware/request-metrics";
import type { AppEnv } from "../../workers/api/types";

function appFor(orgId: string) {
  const app = new Hono<AppEnv>();
  app.use(async function asKey(c, next) {
    if (c.req.header("authorization")) c.set("key", { keyId: "key_x", orgId, scopes: ["read"], projectIds: null, expiresAt: null, lastUsedAt: null });
    await next();
  });
  app.use(requestMetrics());
  app.get("/ok/:projectId", (c) => c.json({ ok: true }));
  app.get("/refused", () => {
    throw new AppError(403, "forbidden", "no");
  });
  app.get("/broken", () => {
    throw new Error("a bug");
  });
  app.onError((err, c) => c.json({ error: String(err) }, err instanceof AppError ? err.status : 500));
  return app;
}

describe("requestMetrics", () => {
  it("counts 2xx, 4xx and 5xx answers, onError's included, and nothing without a key", async () => {
    const orgId = `org_${crypto.randomUUID().slice(0, 8)}`;
    const app = appFor(orgId);
    const call = async (path: string, keyed = true) => {
      const ctx = createExecutionContext();
      const res = await app.request(path, keyed ? { headers: { authorization: "Bearer k" } } : {}, env, ctx);
      await waitOnExecutionContext(ctx);
      return res.status;
    };
    expect(await call("/ok/prj_a")).toBe(200);
    expect(await call("/refused")).toBe(403);
    expect(await call("/broken")).toBe(500);
    expect(await call("/broken")).toBe(500);
    expect(await call("/broken", false)).toBe(500);
    const day = new Date().toISOString().slice(0, 10);
    const store = new D1MetricsStore(openDb(env.DB));
    const org = metricsReport(await store.read({ orgId, from: day, to: day }), { from: day, to: day }).totals;
    expect(org).toMatchObject({ requests: 4, errorRate: 0.5, clientErrorRate: 0.25 });
    // The route's project is the request's.
    const project = metricsReport(await store.read({ orgId, from: day, to: day, projectId: "prj_a" }), { from: day, to: day }).totals;
    expect(project).toMatchObject({ requests: 1, errorRate: 0 });
  });
});
