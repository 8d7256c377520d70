/**
 * POST /api/ai/generate-prototype: plan, expand and verify a change for a prompt (spec, Model
 * Orchestration). With `sessionId`, the run happens inside the session object, which streams its events.
 * POST /api/ai/generations/:id/feedback: a reviewer approves or rejects a generated change.
 */
import { and, eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { mayTouch } from "../../../src/lib/auth";
import { AppError, unwrap } from "../../../src/lib/errors";
import { configuredModel } from "../../../src/lib/model/anthropic-adapter";
import type { Assembler } from "../../../src/lib/model/generate";
import { GeneratePrototype, runGeneration } from "../../../src/lib/model/run-generation";
import { getProject } from "../../../src/lib/projects/projects";
import { openDb, tables } from "../../../src/lib/storage";
import { tokenizerFor } from "../../../src/lib/tokenizer";
import { recordUsage } from "../../../src/lib/usage";
import { guardQuota } from "../metering";
import { need } from "../middleware/auth";
import { sessionStub } from "../session-stub";
import type { AppEnv } from "../types";
import { jsonOf } from "../validate";

export const Feedback = z.object({ approved: z.boolean(), note: z.string().max(2000).optional() });
const GenerationMeta = z.looseObject({ changedPaths: z.array(z.string()) });

export const generateRoutes = new Hono<AppEnv>()
  .post("/ai/generate-prototype", need("generate"), jsonOf(GeneratePrototype), async (c) => {
    const body = c.req.valid("json");
    const db = openDb(c.env.DB);
    const project = await getProject(db, body.projectId, c.var.key);
    // Refused before any model call when the org's (or the project's) spend quota is used up.
    const quotaWarnings = body.dryRun ? [] : await guardQuota(c, "spend", project.projectId);
    if (body.sessionId) {
      return c.json(unwrap(await sessionStub(c.env, body.sessionId).generate(c.var.key, body, c.var.requestId, quotaWarnings)));
    }
    const shard = c.env.PROJECT_INDEX.getByName(project.projectId);
    const tokenizer = tokenizerFor(configuredModel(c.env));
    const assemble: Assembler = async (query, budget, hotPaths, opts = {}) =>
      unwrap(
        await shard.assemble({
          prompt: query,
          budget,
          hotPaths,
          tokenizer,
          conversation: [],
          includeText: true,
          ...(opts.instruction ? { instruction: opts.instruction } : {}),
        }),
      );
    const spend = (use: { costUsd: number; model: string }) =>
      recordUsage(db, { orgId: c.var.orgId, projectId: project.projectId, keyId: c.var.key.keyId, model: use.model, costUsd: use.costUsd, requests: 1 });
    return c.json(await runGeneration(c.env, db, project, c.var.orgId, body, { assemble, spend }));
  })
  /**
   * A reviewer's verdict on a generated change. Approved changes' files become a priority signal of the
   * project's assembly (the spec's "AI feedback"); the verdict is kept on the generation's record.
   */
  .post("/ai/generations/:id/feedback", need("generate"), jsonOf(Feedback), async (c) => {
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
    return c.json({ id: row.sessionId, ...feedback, paths: meta.data.changedPaths });
  });
