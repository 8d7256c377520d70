/**
 * POST /api/ai/generate-prototype: plan, expand and verify a change for a prompt (spec, Model
 * Orchestration). With `sessionId`, the run happens inside the session object, which streams its events.
 */
import { Hono } from "hono";
import { unwrap } from "../../../src/lib/errors";
import { DEFAULT_MODEL } from "../../../src/lib/model/anthropic-adapter";
import type { Assembler } from "../../../src/lib/model/generate";
import { GeneratePrototype, runGeneration } from "../../../src/lib/model/run-generation";
import { getProject } from "../../../src/lib/projects/projects";
import { openDb } from "../../../src/lib/storage";
import { tokenizerFor } from "../../../src/lib/tokenizer";
import type { AppEnv } from "../types";
import { jsonBody } from "../validate";
import { openSession } from "./sessions";

export const generateRoutes = new Hono<AppEnv>().post("/ai/generate-prototype", async (c) => {
  const body = await jsonBody(c, GeneratePrototype);
  const db = openDb(c.env.DB);
  const project = await getProject(db, body.projectId, c.var.orgId);
  if (body.sessionId) {
    const { stub } = await openSession(c.env, body.sessionId, c.var.orgId);
    return c.json(unwrap(await stub.generate(c.var.orgId, body)));
  }
  const shard = c.env.PROJECT_INDEX.getByName(project.projectId);
  const tokenizer = tokenizerFor(c.env.MODEL ?? DEFAULT_MODEL);
  const assemble: Assembler = async (prompt, budget, hotPaths) =>
    unwrap(await shard.assemble({ prompt, budget, hotPaths, tokenizer, conversation: [], includeText: true }));
  return c.json(await runGeneration(c.env, db, project, c.var.orgId, body, { assemble }));
});
