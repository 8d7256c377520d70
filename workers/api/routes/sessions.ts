/**
 * Sessions: a Durable Object per session keeps the hot window, the conversation, hot paths, the token
 * and cost meter and the event log; its WebSocket streams the events of the runs inside it.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { SessionInfo } from "../../../durable-objects/session";
import { newId } from "../../../src/lib/crypto/hash";
import { AppError, unwrap } from "../../../src/lib/errors";
import { DEFAULT_MODEL } from "../../../src/lib/model/anthropic-adapter";
import { getProject } from "../../../src/lib/projects/projects";
import { openDb } from "../../../src/lib/storage";
import { tokenizerFor } from "../../../src/lib/tokenizer";
import type { AppEnv } from "../types";
import { jsonBody, parseWith } from "../validate";

export const SessionId = z.string().regex(/^ses_[A-Za-z0-9_-]{8,64}$/, "not a session id");

const CreateSession = z.object({ projectId: z.string().min(1).max(64) });

export const SessionAssemble = z.object({
  prompt: z.string().trim().min(1, "the prompt is empty").max(200_000, "the prompt is over 200,000 characters"),
  budget: z.number().int().min(4096).max(1_000_000).default(500_000),
  hotPaths: z.array(z.string().min(1).max(1024)).max(500).default([]),
  model: z.string().min(1).max(128).default(DEFAULT_MODEL),
  includeText: z.boolean().default(false),
});

/** The session's object, once the caller's org is known to own it (another org's is a 404). */
export async function openSession(
  env: Env,
  sessionId: string,
  orgId: string,
): Promise<{ stub: DurableObjectStub<import("../../../durable-objects/session").Session>; info: SessionInfo }> {
  const id = parseWith(SessionId, sessionId, "session id");
  const stub = env.SESSION.getByName(id);
  return { stub, info: unwrap(await stub.info(orgId)) };
}

export const sessionRoutes = new Hono<AppEnv>()
  .post("/sessions", async (c) => {
    const body = await jsonBody(c, CreateSession);
    const project = await getProject(openDb(c.env.DB), body.projectId, c.var.orgId);
    const sessionId = newId("ses");
    const info = await c.env.SESSION.getByName(sessionId).create({
      sessionId,
      projectId: project.projectId,
      orgId: c.var.orgId,
      createdAt: new Date().toISOString(),
    });
    return c.json(info, 201);
  })
  .get("/sessions/:sessionId", async (c) => c.json((await openSession(c.env, c.req.param("sessionId"), c.var.orgId)).info))
  .post("/sessions/:sessionId/assemble", async (c) => {
    const body = await jsonBody(c, SessionAssemble);
    const { stub } = await openSession(c.env, c.req.param("sessionId"), c.var.orgId);
    const result = unwrap(
      await stub.assemble(c.var.orgId, {
        prompt: body.prompt,
        budget: body.budget,
        hotPaths: body.hotPaths,
        tokenizer: tokenizerFor(body.model),
        includeText: body.includeText,
      }),
    );
    return c.json({ model: body.model, ...result });
  })
  .get("/sessions/:sessionId/ws", async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw new AppError(426, "upgrade_required", "connect with a WebSocket upgrade");
    const { stub, info } = await openSession(c.env, c.req.param("sessionId"), c.var.orgId);
    const headers = new Headers(c.req.raw.headers);
    headers.set("x-winky-org", info.orgId);
    return stub.fetch(new Request(c.req.url, { headers }));
  });
