/**
 * GitHub push webhooks, one URL per project: authenticated by HMAC-SHA256 of the raw body with the
 * project's secret (not a bearer token), deduplicated by delivery id.
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { recordAudit } from "../../../src/lib/audit/audit-log";
import { WebhookAnswer } from "../../../src/lib/contract/webhooks";
import { AppError } from "../../../src/lib/errors";
import { GitHostError, PushEvent } from "../../../src/lib/git-host";
import { ingestDeps } from "../../../src/lib/ingest";
import { claimDelivery, enqueuePush, projectGitHost, releaseDelivery, signedProject } from "../../../src/lib/ingest/enqueue-push";
import type { ProjectRow } from "../../../src/lib/projects/projects";
import { type Db, openDb } from "../../../src/lib/storage";
import { describe } from "../openapi";
import type { AppEnv } from "../types";
import { parseWith } from "../validate";

// GitHub caps webhook payloads at 25 MB.
const MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;

const payloadLimit = bodyLimit({
  maxSize: MAX_PAYLOAD_BYTES,
  onError: () => {
    throw new AppError(413, "payload_too_large", "webhook payloads are limited to 25 MB");
  },
});

// GitHub's delivery ids are GUIDs.
const DeliveryId = z.string().regex(/^[\w-]{1,100}$/);

export const webhookRoutes = new Hono<AppEnv>()
  // The shared URL of before, where a delivery named its project only inside the body, is gone.
  .post(
    "/webhooks/github",
    describe({ summary: "Gone: each project has its own webhook URL (410)", tags: ["webhooks"], caller: "public", responses: {} }),
    () => {
      throw new AppError(410, "webhook_moved", "each project has its own webhook URL: /api/webhooks/github/<projectId> (GET /api/projects/:id shows it)");
    },
  )
  .post(
    "/webhooks/github/:projectId",
    describe({
      summary: "A GitHub push or ping for one project, signed with its secret (X-Hub-Signature-256)",
      tags: ["webhooks"],
      caller: "webhook",
      responses: { 200: WebhookAnswer, 202: WebhookAnswer },
    }),
    payloadLimit,
    async (c) => {
      // The signature is checked over the raw body before anything parses it.
      const raw = new Uint8Array(await c.req.arrayBuffer());
      const signature = c.req.header("x-hub-signature-256");
      if (!signature?.startsWith("sha256=")) throw new AppError(401, "bad_signature", "missing X-Hub-Signature-256");
      const db = openDb(c.env.DB);
      const project = await signedProject(db, c.req.param("projectId"), signature, raw);
      // An unknown project, an unlinked one and a wrong secret answer alike.
      if (!project) throw new AppError(401, "bad_signature", "the signature does not match this webhook");

      // The delivery is recorded with how it ended; an error still reaches the app's handler.
      let status = 500;
      try {
        const res = await answerDelivery(c, db, project, raw);
        status = res.status;
        return res;
      } catch (e) {
        if (e instanceof AppError) status = e.status;
        throw e;
      } finally {
        const delivery = c.req.header("x-github-delivery");
        await recordAudit(db, {
          orgId: project.orgId,
          actor: "webhook",
          keyId: null,
          action: "POST /api/webhooks/github/:projectId",
          projectId: project.projectId,
          targets: { projectId: project.projectId, event: c.req.header("x-github-event") ?? "", ...(delivery ? { delivery } : {}) },
          requestId: c.var.requestId,
          status,
        });
      }
    },
  );

/** What a verified delivery does: a ping's answer, or a push's job (see enqueuePush). */
async function answerDelivery(c: Context<AppEnv>, db: Db, project: ProjectRow, raw: Uint8Array): Promise<Response> {
  const event = c.req.header("x-github-event") ?? "";
  if (event === "ping") return c.json({ ok: true, event });
  if (event !== "push") return c.json({ ignored: `event "${event}" is not handled` }, 202);
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw new AppError(400, "invalid_json", "the payload is not valid JSON");
  }
  const push = parseWith(PushEvent, payload, "push payload");
  if (push.deleted) return c.json({ ignored: "branch deletion" }, 202);
  const header = c.req.header("x-github-delivery");
  const delivery = header === undefined ? undefined : parseWith(DeliveryId, header, "X-GitHub-Delivery");
  if (delivery && !(await claimDelivery(db, project.projectId, delivery, Date.now()))) {
    return c.json({ ignored: `delivery ${delivery} was already received` }, 200);
  }
  try {
    const gitHost = await projectGitHost(c.env.GIT_API_BASE_URL, c.env.WINKY_SEAL_KEY, project);
    const result = await enqueuePush({ ...ingestDeps(c.env), gitHost }, push, project);
    return c.json(result, result.jobs.length > 0 ? 202 : 200);
  } catch (e) {
    // Nothing was enqueued: the delivery fails visibly in GitHub's log and its redelivery is accepted.
    if (delivery) await releaseDelivery(db, project.projectId, delivery);
    if (!(e instanceof GitHostError)) throw e;
    const headers = e.retryAfterSeconds === undefined ? undefined : { "retry-after": String(e.retryAfterSeconds) };
    const error = new AppError(503, "git_host_unavailable", `the changed files could not be listed: ${e.message}`);
    return c.json(error.toJSON(c.var.requestId), 503, headers);
  }
}
