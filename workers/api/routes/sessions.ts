/**
 * Sessions: a Durable Object per session keeps the hot window, the conversation, hot paths, the token
 * and cost meter and the event log; its WebSocket streams the events of the runs inside it.
 */
import { and, eq } from "drizzle-orm";
import { Hono } from "hono";
import { mayTouch } from "../../../src/lib/auth";
import { ASSEMBLE_BUDGET } from "../../../src/lib/contract/context";
import { CreateSession, SessionAssemble, SessionAssembleResponse, SessionInfo } from "../../../src/lib/contract/sessions";
import { newId } from "../../../src/lib/crypto/hash";
import { AppError, unwrap } from "../../../src/lib/errors";
import { assertModelAllowed, governanceRead, policyOf, resolveBudget } from "../../../src/lib/governance";
import { getProject, sessionProjectRead } from "../../../src/lib/projects/projects";
import { socketCallerHeaders } from "../../../src/lib/session";
import { openDb, readAtOnce, tables, together } from "../../../src/lib/storage";
import { tokenizerFor } from "../../../src/lib/tokenizer";
import { quotaRead } from "../../../src/lib/usage";
import { meter, passOnWarnings } from "../metering";
import { need } from "../middleware/auth";
import { describe } from "../openapi";
import { sessionStub } from "../session-stub";
import type { AppEnv } from "../types";
import { jsonOf } from "../validate";

export const sessionRoutes = new Hono<AppEnv>()
  .post(
    "/sessions",
    describe({
      summary: "Open a session on a project (hot window, conversation, event log)",
      tags: ["sessions"],
      caller: "read",
      responses: { 201: SessionInfo },
    }),
    need("read"),
    jsonOf(CreateSession),
    async (c) => {
      const body = c.req.valid("json");
      const db = openDb(c.env.DB);
      const project = await getProject(db, body.projectId, c.var.key);
      const sessionId = newId("ses");
      // Registered before the object exists, so deleting the project always finds every session it has.
      await db.insert(tables.sessions).values({ sessionId, projectId: project.projectId, orgId: c.var.orgId });
      const info = await c.env.SESSION.getByName(sessionId).create({
        sessionId,
        projectId: project.projectId,
        orgId: c.var.orgId,
        createdAt: new Date().toISOString(),
      });
      return c.json(info, 201);
    },
  )
  .get(
    "/sessions/:sessionId",
    describe({
      summary: "A session's state: meter, hot window, hot paths, messages, last event",
      tags: ["sessions"],
      caller: "read",
      responses: { 200: SessionInfo },
    }),
    need("read"),
    async (c) => {
      return c.json(unwrap(await sessionStub(c.env, c.req.param("sessionId")).info(c.var.key)));
    },
  )
  .post(
    "/sessions/:sessionId/assemble",
    describe({
      summary: "Assemble context inside a session, reusing its hot window",
      tags: ["sessions"],
      caller: "read",
      responses: { 200: SessionAssembleResponse },
    }),
    need("read"),
    jsonOf(SessionAssemble),
    async (c) => {
      const body = c.req.valid("json");
      const sessionId = c.req.param("sessionId");
      const stub = sessionStub(c.env, sessionId);
      const db = openDb(c.env.DB);
      // One batch: the session's project (its limit joins the org's; a session with no registry row has the
      // org's policy alone), the org's settings and the quota. The policy is judged first, as it was when
      // these were read in turn: a refused model or budget answers before a used-up quota.
      const [budget, quotaWarnings] = await readAtOnce(db, [
        together([sessionProjectRead(db, sessionId, c.var.orgId), governanceRead(db, c.var.orgId)], ([project, governance]) => {
          const policy = policyOf(governance, project);
          assertModelAllowed(body.model, policy);
          return resolveBudget(body.budget, ASSEMBLE_BUDGET, policy);
        }),
        quotaRead(db, c.var.orgId, "tokens"),
      ]);
      passOnWarnings(c, quotaWarnings);
      const result = unwrap(
        await stub.assemble(c.var.key, {
          prompt: body.prompt,
          budget,
          hotPaths: body.hotPaths,
          tokenizer: tokenizerFor(body.model),
          includeText: body.includeText,
          quotaWarnings,
        }),
      );
      meter(c, { model: body.model, tokensAssembled: result.tokenTotal, requests: 1 });
      return c.json({ model: body.model, ...result });
    },
  )
  .delete(
    "/sessions/:sessionId",
    describe({ summary: "Delete a session and everything it holds", tags: ["sessions"], caller: "read", responses: { 204: null } }),
    need("read"),
    async (c) => {
      const sessionId = c.req.param("sessionId");
      const stub = sessionStub(c.env, sessionId);
      const db = openDb(c.env.DB);
      const row = await db.select().from(tables.sessions).where(eq(tables.sessions.sessionId, sessionId)).get();
      const missing = new AppError(404, "session_not_found", "no such session");
      if (row && (row.orgId !== c.var.orgId || !mayTouch(c.var.key, row.projectId))) throw missing;
      // The object checks the org too: a session created before the registry existed has no row.
      const { existed } = unwrap(await stub.wipe(c.var.key));
      if (!row && !existed) throw missing;
      if (row) await db.delete(tables.sessions).where(and(eq(tables.sessions.sessionId, sessionId), eq(tables.sessions.orgId, c.var.orgId)));
      return c.body(null, 204);
    },
  )
  .get(
    "/sessions/:sessionId/ws",
    describe({ summary: "The session's event stream over a WebSocket (?after=<seq> resumes)", tags: ["sessions"], caller: "read", responses: { 101: null } }),
    need("read"),
    async (c) => {
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw new AppError(426, "upgrade_required", "connect with a WebSocket upgrade");
      const stub = sessionStub(c.env, c.req.param("sessionId"));
      const headers = new Headers(c.req.raw.headers);
      for (const [name, value] of Object.entries(socketCallerHeaders(c.var.key))) headers.set(name, value);
      headers.set("x-winky-request-id", c.var.requestId);
      return stub.fetch(new Request(c.req.url, { headers }));
    },
  );
