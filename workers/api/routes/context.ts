/** Context assembly: the best context for a prompt within a token budget, with provenance. */
import { Hono } from "hono";
import { z } from "zod";
import { assembleForProject } from "../../../src/lib/assembly/assemble-for-project";
import { getProject } from "../../../src/lib/projects/projects";
import { openDb } from "../../../src/lib/storage";
import { tokenizerFor } from "../../../src/lib/tokenizer";
import { guardQuota, meter } from "../metering";
import { need } from "../middleware/auth";
import { AssembleFields } from "../schemas";
import type { AppEnv } from "../types";
import { jsonOf } from "../validate";

export const Assemble = AssembleFields.extend({
  projectId: z.string().min(1).max(64),
  // The spec's prompt carries the last 10 messages of the conversation.
  conversation: z
    .array(z.object({ role: z.string().min(1).max(32), content: z.string().max(100_000) }))
    .max(10)
    .default([]),
});

export const contextRoutes = new Hono<AppEnv>().post("/context/assemble", need("read"), jsonOf(Assemble), async (c) => {
  const body = c.req.valid("json");
  const db = openDb(c.env.DB);
  const project = await getProject(db, body.projectId, c.var.key);
  await guardQuota(c, "tokens", project.projectId);
  const { callId, ...result } = await assembleForProject(
    { db, shards: c.env.PROJECT_INDEX },
    {
      projectId: project.projectId,
      orgId: c.var.orgId,
      model: body.model,
      prompt: body.prompt,
      budget: body.budget,
      hotPaths: body.hotPaths,
      tokenizer: tokenizerFor(body.model),
      conversation: body.conversation,
      includeText: body.includeText,
    },
  );
  meter(c, { projectId: project.projectId, model: body.model, tokensAssembled: result.tokenTotal, requests: 1 });
  return c.json({ callId, model: body.model, ...result });
});
