/** Context assembly: the best context for a prompt within a token budget, with provenance. */
import { Hono } from "hono";
import { z } from "zod";
import { pieceRefs } from "../../../src/lib/assembly/assemble";
import { newId } from "../../../src/lib/crypto/hash";
import { unwrap } from "../../../src/lib/errors";
import { getProject } from "../../../src/lib/projects/projects";
import { openDb, tables } from "../../../src/lib/storage";
import { tokenizerFor } from "../../../src/lib/tokenizer";
import { AssembleFields } from "../schemas";
import type { AppEnv } from "../types";
import { jsonBody } from "../validate";

const Assemble = AssembleFields.extend({
  projectId: z.string().min(1).max(64),
  // The spec's prompt carries the last 10 messages of the conversation.
  conversation: z
    .array(z.object({ role: z.string().min(1).max(32), content: z.string().max(100_000) }))
    .max(10)
    .default([]),
});

export const contextRoutes = new Hono<AppEnv>().post("/context/assemble", async (c) => {
  const body = await jsonBody(c, Assemble);
  const db = openDb(c.env.DB);
  const project = await getProject(db, body.projectId, c.var.orgId);
  const tokenizer = tokenizerFor(body.model);
  const result = unwrap(
    await c.env.PROJECT_INDEX.getByName(project.projectId).assemble({
      prompt: body.prompt,
      budget: body.budget,
      hotPaths: body.hotPaths,
      tokenizer,
      conversation: body.conversation,
      includeText: body.includeText,
    }),
  );
  const callId = newId("ctx");
  // The audit record keeps references and counts, never chunk text.
  await db.insert(tables.contextSessions).values({
    sessionId: callId,
    projectId: project.projectId,
    orgId: c.var.orgId,
    chunksUsed: JSON.stringify(pieceRefs(result.contextPieces)),
    tokensAtCall: result.tokenTotal,
    model: body.model,
    resultMeta: JSON.stringify({ budget: result.tokenBudget, utilization: result.utilization, timings: result.timings, warnings: result.warnings }),
  });
  return c.json({ callId, model: body.model, ...result });
});
