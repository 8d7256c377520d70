/** The HTTP API: one Hono app, one sub-app per resource, one error handler. */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { Readiness } from "../../src/lib/contract/health";
import { AppError, envelopeOf } from "../../src/lib/errors";
import { probeRunner, readiness } from "../../src/lib/health/readiness";
import { referencePage } from "./api-reference";
import { auditTrail } from "./middleware/audit";
import { requireKey } from "./middleware/auth";
import { rateLimit } from "./middleware/rate-limit";
import { requestMetrics } from "./middleware/request-metrics";
import { describe, OpenApiDocumentSchema, openApiDocument } from "./openapi";
import { contextRoutes } from "./routes/context";
import { generateRoutes } from "./routes/generate";
import { generationRoutes } from "./routes/generations";
import { jobRoutes } from "./routes/jobs";
import { mcpRoutes } from "./routes/mcp";
import { metricsRoutes } from "./routes/metrics";
import { createOrgRoute, orgRoutes } from "./routes/orgs";
import { projectRoutes } from "./routes/projects";
import { sandboxRoutes } from "./routes/sandbox";
import { sessionRoutes } from "./routes/sessions";
import { uploadRoutes } from "./routes/uploads";
import { webhookRoutes } from "./routes/webhooks";
import { whoamiRoutes } from "./routes/whoami";
import type { AppEnv } from "./types";

export const app = new Hono<AppEnv>();

app.use(async function requestId(c, next) {
  const started = Date.now();
  c.set("requestId", c.req.header("cf-ray") ?? crypto.randomUUID());
  await next();
  // The Worker's own time for the request (workerd's clock moves across I/O, so the waits are in it): what a
  // client's time holds beyond the network and any proxy in front. A WebSocket's 101 keeps its headers.
  if (c.res.status !== 101) c.header("server-timing", `app;dur=${Date.now() - started}`);
});

// Readiness of each dependency, unauthenticated for load balancers; 503 when the catalog or the chunk store
// does not answer.
app.get(
  "/health",
  describe({
    summary: "Readiness of each dependency (503 when the catalog or chunk store is down)",
    tags: ["health"],
    caller: "public",
    responses: { 200: Readiness },
  }),
  async (c) => {
    const runner = c.env.SANDBOX_RUNNER_URL;
    const report = await readiness({
      d1: c.env.DB,
      bucket: c.env.CHUNKS,
      sandbox: c.env.SANDBOX ? { kind: "container" } : runner ? { kind: "local", probe: probeRunner(runner) } : { kind: "absent" },
      modelConfigured: Boolean(c.env.ANTHROPIC_API_KEY),
      now: Date.now(),
    });
    c.header("cache-control", "no-store");
    return c.json(report, report.status === "down" ? 503 : 200);
  },
);

// The API's own description: the OpenAPI document and a page that reads it (both public, like /health).
app.get(
  "/openapi.json",
  describe({ summary: "This document (OpenAPI 3.1)", tags: ["reference"], caller: "public", responses: { 200: OpenApiDocumentSchema } }),
  async (c) => c.json(await openApiDocument(app)),
);
app.get(
  "/docs",
  describe({
    summary: "This document as a page",
    tags: ["reference"],
    caller: "public",
    responses: { 200: { media: ["text/html"], description: "the reference page" } },
  }),
  async (c) => c.html(referencePage(await openApiDocument(app))),
);

// Webhooks carry their own HMAC signature instead of a bearer token.
app.route("/api", webhookRoutes);
// Only the operator's bootstrap token creates orgs; every other route takes an API key.
app.route("/api", createOrgRoute);

const authed = new Hono<AppEnv>();
authed.use(requireKey());
authed.use(auditTrail());
authed.use(requestMetrics());
authed.use(rateLimit());
authed.route("/", whoamiRoutes);
authed.route("/", orgRoutes);
authed.route("/", projectRoutes);
authed.route("/", uploadRoutes);
authed.route("/", jobRoutes);
authed.route("/", contextRoutes);
authed.route("/", sandboxRoutes);
authed.route("/", generateRoutes);
authed.route("/", generationRoutes);
authed.route("/", sessionRoutes);
authed.route("/", metricsRoutes);
app.route("/api", authed);

// The Model Context Protocol endpoint: the same keys, audit and rate limit; each tool checks its own scope.
const mcp = new Hono<AppEnv>();
mcp.use(requireKey());
mcp.use(auditTrail());
mcp.use(requestMetrics());
mcp.use(rateLimit());
mcp.route("/", mcpRoutes);
app.route("/mcp", mcp);

app.notFound((c) => c.json(new AppError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`).toJSON(c.var.requestId), 404));

// Every error answers in the one envelope with the request id; unknown errors are logged once, with their
// cause, and answered generically so no internal detail reaches a client.
app.onError((err, c) => {
  // Hono's own middleware throws HTTPException: its validator for a JSON body that does not parse.
  if (err instanceof HTTPException && err.status === 400) err = new AppError(400, "invalid_json", "the request body is not valid JSON");
  if (err instanceof AppError) {
    if (err.cause !== undefined) console.error(JSON.stringify({ requestId: c.var.requestId, code: err.code, cause: String(err.cause) }));
    return c.json(err.toJSON(c.var.requestId), err.status);
  }
  console.error(JSON.stringify({ requestId: c.var.requestId, path: c.req.path, error: String(err), stack: err instanceof Error ? err.stack : undefined }));
  return c.json(envelopeOf(err, c.var.requestId), 500);
});
