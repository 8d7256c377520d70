/** The HTTP API: one Hono app, one sub-app per resource, one error handler. */
import { Hono } from "hono";
import { AppError } from "../../src/lib/errors";
import { requireAuth } from "./middleware/auth";
import { contextRoutes } from "./routes/context";
import { generateRoutes } from "./routes/generate";
import { jobRoutes } from "./routes/jobs";
import { orgRoutes } from "./routes/orgs";
import { projectRoutes } from "./routes/projects";
import { sandboxRoutes } from "./routes/sandbox";
import { sessionRoutes } from "./routes/sessions";
import { uploadRoutes } from "./routes/uploads";
import { webhookRoutes } from "./routes/webhooks";
import type { AppEnv } from "./types";

export const app = new Hono<AppEnv>();

app.use(async function requestId(c, next) {
  c.set("requestId", c.req.header("cf-ray") ?? crypto.randomUUID());
  await next();
});

app.get("/health", (c) => c.json({ ok: true }));

// Webhooks carry their own HMAC signature instead of a bearer token.
app.route("/api", webhookRoutes);

const authed = new Hono<AppEnv>();
authed.use(requireAuth());
authed.route("/", orgRoutes);
authed.route("/", projectRoutes);
authed.route("/", uploadRoutes);
authed.route("/", jobRoutes);
authed.route("/", contextRoutes);
authed.route("/", sandboxRoutes);
authed.route("/", generateRoutes);
authed.route("/", sessionRoutes);
app.route("/api", authed);

app.notFound((c) => c.json(new AppError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`).toJSON(), 404));

app.onError((err, c) => {
  if (err instanceof AppError) return c.json(err.toJSON(), err.status);
  console.error(JSON.stringify({ requestId: c.var.requestId, path: c.req.path, error: String(err), stack: err instanceof Error ? err.stack : undefined }));
  return c.json({ error: { code: "internal", message: "internal error", requestId: c.var.requestId } }, 500);
});
