/**
 * POST /api/ai/generate-prototype: plan, expand and verify a change for a prompt (spec, Model
 * Orchestration). With `sessionId`, the run happens inside the session object, which streams its events.
 * POST /api/ai/generations/:id/feedback: a reviewer approves or rejects a generated change.
 */
import { and, eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { mayTouch } from "../../../src/lib/auth";
import { Feedback, FeedbackRecorded, GeneratePrototype, GenerationResponse } from "../../../src/lib/contract/generate";
import { AppError, unwrap } from "../../../src/lib/errors";
import { recallEvent } from "../../../src/lib/metrics";
import { generateForProject } from "../../../src/lib/model/generate-for-project";
import { getProject } from "../../../src/lib/projects/projects";
import { openDb, tables } from "../../../src/lib/storage";
import { guardQuota, measure } from "../metering";
import { need } from "../middleware/auth";
import { describe } from "../openapi";
import { sessionStub } from "../session-stub";
import type { AppEnv } from "../types";
import { jsonOf } from "../validate";

const GenerationMeta = z.looseObject({ changedPaths: z.array(z.string()), feedback: z.looseObject({ approved: z.boolean() }).optional() });

export const generateRoutes = new Hono<AppEnv>()
  .post(
    "/ai/generate-prototype",
    describe({
      summary: "Plan, expand and verify a change for a prompt (dryRun: the prompts only)",
      tags: ["generation"],
      caller: "generate",
      responses: { 200: GenerationResponse },
    }),
    need("generate"),
    jsonOf(GeneratePrototype),
    async (c) => {
      const body = c.req.valid("json");
      const db = openDb(c.env.DB);
      const project = await getProject(db, body.projectId, c.var.key);
      // Refused before any model call when the org's (or the project's) spend quota is used up.
      const quotaWarnings = body.dryRun ? [] : await guardQuota(c, "spend", project.projectId);
      if (body.sessionId) {
        return c.json(unwrap(await sessionStub(c.env, body.sessionId).generate(c.var.key, body, c.var.requestId, quotaWarnings)));
      }
      return c.json(await generateForProject({ env: c.env, db, shards: c.env.PROJECT_INDEX }, project, c.var.key, body));
    },
  )
  /**
   * A reviewer's verdict on a generated change. Approved changes' files become a priority signal of the
   * project's assembly (the spec's "AI feedback"); the verdict is kept on the generation's record.
   */
  .post(
    "/ai/generations/:id/feedback",
    describe({ summary: "Approve or reject a generated change", tags: ["generation"], caller: "generate", responses: { 200: FeedbackRecorded } }),
    need("generate"),
    jsonOf(Feedback),
    async (c) => {
      const body = c.req.valid("json");
      const db = openDb(c.env.DB);
      const row = await db
        .select()
        .from(tables.contextSessions)
        .where(and(eq(tables.contextSessions.sessionId, c.req.param("id")), eq(tables.contextSessions.orgId, c.var.orgId)))
        .get();
      const meta = GenerationMeta.safeParse(JSON.parse(row?.resultMeta ?? "null"));
      if (!row || !meta.success || !mayTouch(c.var.key, row.projectId)) throw new AppError(404, "not_found", "no such generation");
      const feedback = { approved: body.approved, note: body.note ?? null, at: new Date().toISOString() };
      await db
        .update(tables.contextSessions)
        .set({ resultMeta: JSON.stringify({ ...meta.data, feedback }) })
        .where(eq(tables.contextSessions.sessionId, row.sessionId));
      await c.env.PROJECT_INDEX.getByName(row.projectId).recordFeedback(row.sessionId, meta.data.changedPaths, body.approved);
      // Retrieval recall counts a generation when it becomes approved, not again while it stays approved.
      if (body.approved && meta.data.feedback?.approved !== true) {
        measure(c, [recallEvent({ orgId: row.orgId, projectId: row.projectId }, meta.data.changedPaths, row.chunksUsed)]);
      }
      return c.json({ id: row.sessionId, ...feedback, paths: meta.data.changedPaths });
    },
  );
