/** POST /api/ai/generate-prototype: plan, expand and verify a change for a prompt (spec, Model Orchestration). */
import { Hono } from "hono";
import { z } from "zod";
import type { AssembleResult } from "../../../src/lib/assembly/assemble";
import { newId } from "../../../src/lib/crypto/hash";
import { AppError } from "../../../src/lib/errors";
import { costUsd, ModelAdapter } from "../../../src/lib/model/anthropic-adapter";
import { type Assembler, generate, passPrompts } from "../../../src/lib/model/generate";
import { getProject } from "../../../src/lib/projects/projects";
import { executeRun, prepareRun } from "../../../src/lib/sandbox/runs";
import { openDb, tables } from "../../../src/lib/storage";
import { tokenizerFor } from "../../../src/lib/tokenizer";
import type { AppEnv } from "../types";
import { jsonBody } from "../validate";
import { DEFAULT_MODEL } from "./context";

const GeneratePrototype = z.object({
  projectId: z.string().min(1).max(64),
  prompt: z.string().trim().min(1).max(200_000),
  runtime: z.enum(["our", "adapter"]).default("our"),
  authType: z.enum(["email", "google"]).nullable().default(null),
  size: z.enum(["small", "medium", "large"]).default("medium"),
  maxContextTokens: z.number().int().min(16_000).max(1_000_000).default(500_000),
  hotPaths: z.array(z.string().min(1).max(1024)).max(500).default([]),
  commands: z.array(z.string().min(1).max(4096)).min(1).max(20).optional(),
  verify: z.boolean().default(true),
  dryRun: z.boolean().default(false),
});

function contextMeta(ctx: AssembleResult, budget: number) {
  return {
    tokenBudget: budget,
    tokensUsedForContext: ctx.tokenTotal,
    chunksUsed: ctx.contextPieces.filter((p) => p.kind === "chunk").map((p) => p.chunkId),
    summariesUsed: ctx.contextPieces.filter((p) => p.kind.endsWith("summary")).map((p) => p.chunkId),
  };
}

export const generateRoutes = new Hono<AppEnv>().post("/ai/generate-prototype", async (c) => {
  const body = await jsonBody(c, GeneratePrototype);
  const db = openDb(c.env.DB);
  const project = await getProject(db, body.projectId, c.var.orgId);
  const model = c.env.MODEL ?? DEFAULT_MODEL;
  const tokenizer = tokenizerFor(model);
  const shard = c.env.PROJECT_INDEX.getByName(project.projectId);
  const assemble: Assembler = async (prompt, budget, hotPaths) => {
    const r = await shard.assemble({ prompt, budget, hotPaths, tokenizer, conversation: [], includeText: true });
    if ("error" in r) throw new AppError(r.error.status, r.error.code, r.error.message);
    return r;
  };
  if (body.dryRun) {
    const { plan, expand } = await passPrompts(assemble, body.prompt, body.maxContextTokens, body.hotPaths);
    return c.json({
      dryRun: true,
      model,
      prompts: { plan: plan.contextText, expand: expand.contextText },
      contextMeta: contextMeta(expand, body.maxContextTokens),
    });
  }
  const adapter = new ModelAdapter({ apiKey: c.env.ANTHROPIC_API_KEY, baseURL: c.env.ANTHROPIC_BASE_URL, model });
  const result = await generate(
    {
      model: adapter,
      assemble,
      ...(body.verify
        ? {
            verify: async (change) => {
              const { runId, input } = await prepareRun(c.env, db, project, change, body.commands, {});
              return executeRun(c.env, db, runId, project.projectId, input, () => undefined);
            },
          }
        : {}),
    },
    body.prompt,
    body.maxContextTokens,
    body.hotPaths,
  );
  const id = newId("gen");
  const last = result.verification.at(-1);
  await db.insert(tables.contextSessions).values({
    sessionId: id,
    projectId: project.projectId,
    orgId: c.var.orgId,
    chunksUsed: JSON.stringify(
      result.expandContext.contextPieces.map((p) => ({
        id: p.chunkId,
        kind: p.kind,
        path: p.sourcePath,
        lines: [p.startLine, p.endLine],
        tokens: p.tokenCount,
      })),
    ),
    tokensAtCall: result.expandContext.tokenTotal,
    model,
    resultMeta: JSON.stringify({
      usage: result.usage,
      costUsd: costUsd(model, result.usage),
      repairs: result.repairs,
      verification: result.verification.map((v) => ({ runId: v.runId, status: v.status })),
      warnings: result.warnings,
    }),
  });
  return c.json({
    id,
    plan: result.plan,
    contextMeta: contextMeta(result.expandContext, body.maxContextTokens),
    diffs: [...(result.change.diff ? [{ diff: result.change.diff }] : []), ...result.change.files.map((f) => ({ path: f.path, content: f.content }))],
    sources: result.change.sources,
    previewUrl: last ? `/api/sandbox/runs/${last.runId}` : null,
    verification: result.verification.map((v) => ({ runId: v.runId, status: v.status })),
    repairs: result.repairs,
    usage: { ...result.usage, costUsd: costUsd(model, result.usage) },
    warnings: result.warnings,
  });
});
