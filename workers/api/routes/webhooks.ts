/** GitHub push webhooks: authenticated by HMAC-SHA256 of the body with the project's secret, not a bearer token. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { AppError } from "../../../src/lib/errors";
import { GitHostError, isRepoName, PushEvent } from "../../../src/lib/git-host";
import { ingestDeps } from "../../../src/lib/ingest";
import { enqueuePush, signedProjects } from "../../../src/lib/ingest/enqueue-push";
import { openDb } from "../../../src/lib/storage";
import type { AppEnv } from "../types";
import { parseWith } from "../validate";

// GitHub caps webhook payloads at 25 MB.
const MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;

const RepoOnly = z.object({ repository: z.object({ full_name: z.string().min(3) }) });

const payloadLimit = bodyLimit({
  maxSize: MAX_PAYLOAD_BYTES,
  onError: () => {
    throw new AppError(413, "payload_too_large", "webhook payloads are limited to 25 MB");
  },
});

export const webhookRoutes = new Hono<AppEnv>().post("/webhooks/github", payloadLimit, async (c) => {
  const raw = new Uint8Array(await c.req.arrayBuffer());
  const signature = c.req.header("x-hub-signature-256");
  if (!signature?.startsWith("sha256=")) throw new AppError(401, "bad_signature", "missing X-Hub-Signature-256");
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw new AppError(400, "invalid_json", "the payload is not valid JSON");
  }
  const { repository } = parseWith(RepoOnly, payload, "webhook payload");
  const verified = await signedProjects(openDb(c.env.DB), repository.full_name, signature, raw);
  // Unknown repository and wrong secret answer alike, so the route does not reveal which repositories are linked.
  if (verified.length === 0) throw new AppError(401, "bad_signature", "the signature does not match any project linked to this repository");

  const event = c.req.header("x-github-event") ?? "";
  if (event === "ping") return c.json({ ok: true, event });
  if (event !== "push") return c.json({ ignored: `event "${event}" is not handled` }, 202);
  const push = parseWith(PushEvent, payload, "push payload");
  if (push.deleted) return c.json({ ignored: "branch deletion" }, 202);
  if (!isRepoName(push.repository.full_name)) throw new AppError(400, "invalid_request", `"${push.repository.full_name}" is not an owner/name repository`);

  try {
    const result = await enqueuePush({ ...ingestDeps(c.env), gitHost: { baseUrl: c.env.GIT_API_BASE_URL, token: c.env.GIT_API_TOKEN } }, push, verified);
    return c.json(result, result.jobs.length > 0 ? 202 : 200);
  } catch (e) {
    if (!(e instanceof GitHostError)) throw e;
    // Nothing is enqueued: the delivery fails visibly in GitHub's log and can be redelivered.
    const headers = e.retryAfterSeconds === undefined ? undefined : { "retry-after": String(e.retryAfterSeconds) };
    const error = new AppError(503, "git_host_unavailable", `the changed files could not be listed: ${e.message}`);
    return c.json(error.toJSON(c.var.requestId), 503, headers);
  }
});
