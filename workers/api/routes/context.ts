/** Context assembly: the best context for a prompt within a token budget, with provenance. */
import { Hono } from "hono";
import { assembleForProject, readsBeforeAssembly } from "../../../src/lib/assembly/assemble-for-project";
import { ASSEMBLE_BUDGET, Assemble, AssembleResponse } from "../../../src/lib/contract/context";
import { AppError } from "../../../src/lib/errors";
import { assertModelAllowed, decideRerank, policyOf, resolveBudget } from "../../../src/lib/governance";
import { assemblyEvents } from "../../../src/lib/metrics";
import { openDb, readNow } from "../../../src/lib/storage";
import { smallModel } from "../../../src/lib/summaries";
import { tokenizerFor } from "../../../src/lib/tokenizer";
import { guardQuota, measure, meter, passOnWarnings } from "../metering";
import { need } from "../middleware/auth";
import { describe } from "../openapi";
import type { AppEnv } from "../types";
import { jsonOf } from "../validate";

// A rerank answers in about a second; past this the assembly goes on without it.
const RERANK_TIMEOUT_MS = 8000;

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
    // Independent reads as one batch (one round trip to D1); the quota read names only the caller's org.
    const readsStarted = Date.now();
    const [project, governance, warnings] = await readNow(db, readsBeforeAssembly(db, c.var.key, body.projectId));
    passOnWarnings(c, warnings);
    const reads = Date.now() - readsStarted;
    const policy = policyOf(governance, project);
    assertModelAllowed(body.model, policy);
    const budget = resolveBudget(body.budget, ASSEMBLE_BUDGET, policy);
    const rerankModel = smallModel(c.env);
    const rerank = decideRerank(body.rerank, policy, rerankModel);
    if (rerank.run) {
      // A rerank spends money: an explicit one is refused at the spend quota, the org's default gives way.
      try {
        await guardQuota(c, "spend", project.projectId);
      } catch (e) {
        if (body.rerank === true || !(e instanceof AppError)) throw e;
        Object.assign(rerank, { run: false, skipped: e.message });
      }
    }
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
        waited: { reads },
        rerank: rerank.run ? { orgId: c.var.orgId, model: rerankModel, topK: body.rerankTopK, timeoutMs: RERANK_TIMEOUT_MS } : undefined,
      },
    );
    if (rerank.skipped)
      result.rerank = { status: "skipped", model: rerankModel, candidates: 0, reason: rerank.skipped, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    // The rerank's call is metered apart from the assembly (kind "rerank"), an invalid answer too: it was billed.
    if (result.rerank && result.rerank.inputTokens + result.rerank.outputTokens > 0)
      meter(c, { projectId: project.projectId, model: result.rerank.model, kind: "rerank", costUsd: result.rerank.costUsd, requests: 1 });
    meter(c, { projectId: project.projectId, model: body.model, tokensAssembled: result.tokenTotal, requests: 1 });
    // The shard timing is the wall time around the project's index, real in a deployed Worker (assemble-for-project.ts).
    measure(c, assemblyEvents({ orgId: c.var.orgId, projectId: project.projectId }, result.timings.shard ?? 0, result));
    return c.json({ callId, model: body.model, ...result });
  },
);
