/**
 * Sessions: a Durable Object per session keeps the hot window, the conversation, hot paths, the token
 * and cost meter and the event log; its WebSocket streams the events of the runs inside it.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { Session } from "../../../durable-objects/session";
import { newId } from "../../../src/lib/crypto/hash";
import { AppError, unwrap } from "../../../src/lib/errors";
import { getProject } from "../../../src/lib/projects/projects";
import { openDb } from "../../../src/lib/storage";
import { tokenizerFor } from "../../../src/lib/tokenizer";
import type { AppEnv } from "../types";
import { jsonBody, parseWith } from "../validate";
import { AssembleFields } from "./context";

export const SessionId = z.string().regex(/^ses_[A-Za-z0-9_-]{8,64}$/, "not a session id");

const CreateSession = z.object({ projectId: z.string().min(1).max(64) });

/**
 * The session's object for a well-formed id. Its methods check that the caller's org owns it (another
 * org's session answers as a missing one), so no extra round trip is made here.
 */
export function sessionStub(env: Env, sessionId: string): DurableObjectStub<Session> {
  return env.SESSION.getByName(parseWith(SessionId, sessionId, "session id"));
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
  .get("/sessions/:sessionId", async (c) => {
    return c.json(unwrap(await sessionStub(c.env, c.req.param("sessionId")).info(c.var.orgId)));
  })
  .post("/sessions/:sessionId/assemble", async (c) => {
    const body = await jsonBody(c, AssembleFields);
    const stub = sessionStub(c.env, c.req.param("sessionId"));
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
    const stub = sessionStub(c.env, c.req.param("sessionId"));
    const headers = new Headers(c.req.raw.headers);
    headers.set("x-winky-org", c.var.orgId);
    return stub.fetch(new Request(c.req.url, { headers }));
  });
