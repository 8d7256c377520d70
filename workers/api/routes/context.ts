/** Context assembly: the best context for a prompt within a token budget, with provenance. */
import { Hono } from "hono";
import { assembleForProject } from "../../../src/lib/assembly/assemble-for-project";
import { ASSEMBLE_BUDGET, Assemble, AssembleResponse } from "../../../src/lib/contract/context";
import { assertModelAllowed, readPolicy, resolveBudget } from "../../../src/lib/governance";
import { assemblyEvents } from "../../../src/lib/metrics";
import { getProject } from "../../../src/lib/projects/projects";
import { openDb } from "../../../src/lib/storage";
import { tokenizerFor } from "../../../src/lib/tokenizer";
import { guardQuota, measure, meter } from "../metering";
import { need } from "../middleware/auth";
import { describe } from "../openapi";
import type { AppEnv } from "../types";
import { jsonOf } from "../validate";

export const contextRoutes = new Hono<AppEnv>().post(
  "/context/assemble",
  describe({
    summary: "The best context for a prompt within a token budget, every piece with its source lines",
    tags: ["context"],
    caller: "read",
    responses: { 200: AssembleResponse },
  }),
  need("read"),
  jsonOf(Assemble),
  async (c) => {
    const body = c.req.valid("json");
    const db = openDb(c.env.DB);
    const project = await getProject(db, body.projectId, c.var.key);
    const policy = await readPolicy(db, c.var.orgId, project);
    assertModelAllowed(body.model, policy);
    const budget = resolveBudget(body.budget, ASSEMBLE_BUDGET, policy);
    await guardQuota(c, "tokens", project.projectId);
    const { callId, ...result } = await assembleForProject(
      { db, shards: c.env.PROJECT_INDEX },
      {
        projectId: project.projectId,
        orgId: c.var.orgId,
        model: body.model,
        prompt: body.prompt,
        budget,
        hotPaths: body.hotPaths,
        tokenizer: tokenizerFor(body.model),
        conversation: body.conversation,
        includeText: body.includeText,
      },
    );
    meter(c, { projectId: project.projectId, model: body.model, tokensAssembled: result.tokenTotal, requests: 1 });
    // The shard timing is the wall time around the project's index, real in a deployed Worker (assemble-for-project.ts).
    measure(c, assemblyEvents({ orgId: c.var.orgId, projectId: project.projectId }, result.timings.shard ?? 0, result));
    return c.json({ callId, model: body.model, ...result });
  },
);
