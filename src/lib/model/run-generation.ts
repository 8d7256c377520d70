/**
 * One generation request, end to end, for the route (no session) and the session object alike: dryRun
 * prompts, or the model through the org's concurrency gate, sandbox verification, and the audit record
 * in `context_sessions` (chunks, tokens, usage and cost; never text).
 */

import { z } from "zod";
import type { AssembleResult } from "../assembly/assemble";
import { recordContextCall } from "../audit/context-calls";
import { budgetField } from "../contract/context";
import { newId } from "../crypto/hash";
import { AppError } from "../errors";
import { decisionOf, MODEL_VENDOR } from "../generations/decisions";
import { assertMayGenerate, assertModelAllowed, readPolicy, resolveBudget } from "../governance";
import { metricsRecorder, modelCallEvents, recordQuietly } from "../metrics";
import type { ProjectRow } from "../projects/projects";
import { verifyChange } from "../sandbox/runs";
import type { Db } from "../storage";
import { configuredModel, ModelAdapter, modelError, type Usage } from "./anthropic-adapter";
import { type Assembler, type GenerationEvent, generate, passPrompts } from "./generate";
import { orgConcurrency, orgGate } from "./org-gate";

/** The expand pass's default budget (the spec's 500k context). */
export const GENERATION_BUDGET = 500_000;

export const GeneratePrototype = z.object({
  projectId: z.string().min(1).max(64),
  sessionId: z.string().min(1).max(64).optional(),
  prompt: z.string().trim().min(1).max(200_000),
  maxContextTokens: budgetField(16_000, GENERATION_BUDGET),
  hotPaths: z.array(z.string().min(1).max(1024)).max(500).default([]),
  commands: z.array(z.string().min(1).max(4096)).min(1).max(20).optional(),
  verify: z.boolean().default(true),
  dryRun: z.boolean().default(false),
});
export type GeneratePrototype = z.infer<typeof GeneratePrototype>;

export function contextMeta(ctx: AssembleResult, budget: number) {
  return {
    tokenBudget: budget,
    tokensUsedForContext: ctx.tokenTotal,
    chunksUsed: ctx.contextPieces.filter((p) => p.kind === "chunk").map((p) => p.chunkId),
    summariesUsed: ctx.contextPieces.filter((p) => p.kind.endsWith("summary")).map((p) => p.chunkId),
  };
}

export type GenerationResponse = Awaited<ReturnType<typeof runGeneration>>;

export async function runGeneration(
  env: Env,
  db: Db,
  project: ProjectRow,
  orgId: string,
  body: GeneratePrototype,
  opts: {
    assemble: Assembler;
    emit?: (e: GenerationEvent) => void;
    sessionId?: string;
    /** Adds the run's model spend to the org's usage (the key that asked is the caller's); called once the calls are made, however the run ends. */
    spend?: (use: { costUsd: number; model: string }) => Promise<void>;
  },
) {
  const model = configuredModel(env);
  // Governance first, before any assembly or model call: every way into generation passes here.
  const policy = await readPolicy(db, orgId, project);
  assertMayGenerate(policy);
  assertModelAllowed(model, policy);
  const budget = resolveBudget(body.maxContextTokens, GENERATION_BUDGET, policy, "maxContextTokens");
  if (body.dryRun) {
    const { plan, expand } = await passPrompts(opts.assemble, body.prompt, budget, body.hotPaths);
    return {
      dryRun: true as const,
      model,
      prompts: { plan: plan.contextText, expand: expand.contextText },
      contextMeta: contextMeta(expand, budget),
    };
  }
  const adapter = new ModelAdapter({
    apiKey: env.ANTHROPIC_API_KEY,
    baseURL: env.ANTHROPIC_BASE_URL,
    model,
    gate: orgGate(env.ORG_MODEL_GATE, orgId, orgConcurrency(env.ORG_MODEL_CONCURRENCY)),
  });
  const id = newId("gen");
  const calls: Extract<GenerationEvent, { type: "call" }>[] = [];
  // Why the run sent less at once or sent again: trims, the segmented fallback, repairs (the decision log).
  const decisions: NonNullable<ReturnType<typeof decisionOf>>[] = [];
  // Usage and cost are the sums of the calls made, each priced on its own (long-context rates are per call).
  const spent = (): Usage & { costUsd: number } => ({
    inputTokens: calls.reduce((n, c) => n + c.inputTokens, 0),
    outputTokens: calls.reduce((n, c) => n + c.outputTokens, 0),
    costUsd: Math.round(calls.reduce((n, c) => n + c.costUsd, 0) * 1e6) / 1e6,
  });
  // Each model call with its chunks, prompt fingerprint and time: the provenance record of the run.
  const record = (context: AssembleResult | undefined, meta: Record<string, unknown>) =>
    recordContextCall(db, {
      callId: id,
      projectId: project.projectId,
      orgId,
      model,
      context,
      meta: {
        sessionId: opts.sessionId ?? null,
        vendor: MODEL_VENDOR,
        usage: spent(),
        calls: calls.map((c) => ({ ...c, model, vendor: MODEL_VENDOR })),
        decisions,
        ...meta,
      },
    });
  // Each model call's tokens and cost as metrics, once the calls are made, however the run ends (never its failure).
  const measureCalls = () => recordQuietly(metricsRecorder(env), modelCallEvents({ orgId, projectId: project.projectId }, calls));
  let result: Awaited<ReturnType<typeof generate>>;
  try {
    result = await generate(
      {
        model: adapter,
        assemble: opts.assemble,
        emit: (e) => {
          if (e.type === "call") calls.push(e);
          const decision = decisionOf(e);
          if (decision) decisions.push(decision);
          opts.emit?.(e);
        },
        ...(body.verify
          ? {
              verify: (change, onEvent) => verifyChange(env, db, project, change, body.commands, onEvent),
            }
          : {}),
      },
      body.prompt,
      budget,
      body.hotPaths,
    );
  } catch (e) {
    const err = modelError(e);
    await measureCalls();
    // Calls already made were billed: a failed run is recorded with them and its error.
    if (calls.length > 0) {
      await opts.spend?.({ costUsd: spent().costUsd, model }).catch((r: unknown) => console.error(JSON.stringify({ spend: id, error: String(r) })));
      const error = err instanceof AppError ? { code: err.code, message: err.message } : { code: "internal", message: String(err) };
      // A failure to record must not hide the run's own error.
      await record(undefined, { status: "failed", error }).catch((r: unknown) => console.error(JSON.stringify({ record: id, error: String(r) })));
    }
    throw err;
  }
  const usage = spent();
  await measureCalls();
  await opts.spend?.({ costUsd: usage.costUsd, model }).catch((r: unknown) => console.error(JSON.stringify({ spend: id, error: String(r) })));
  const verification = result.verification.map((v) => ({ runId: v.runId, status: v.status }));
  await record(result.expandContext, {
    status: "done",
    repairs: result.repairs,
    segmented: result.segmented,
    verification,
    warnings: result.warnings,
    claims: result.claims,
    changedPaths: result.change.files.map((f) => f.path),
  });
  return {
    id,
    ...(opts.sessionId ? { sessionId: opts.sessionId } : {}),
    plan: result.plan,
    contextMeta: contextMeta(result.expandContext, budget),
    diffs: [...(result.change.diff ? [{ diff: result.change.diff }] : []), ...result.change.files.map((f) => ({ path: f.path, content: f.content }))],
    sources: result.change.sources,
    verification,
    repairs: result.repairs,
    segmented: result.segmented,
    usage,
    warnings: result.warnings,
    claims: result.claims,
  };
}
