/**
 * Multi-pass generation (spec: plan, expand, verify). Plan: the project summary and the top chunks,
 * answered as a JSON plan. Expand: the plan with the large context, answered as files/diff with the
 * chunk ids behind each claim. Verify: the change runs in the sandbox; on failure a targeted repair pass
 * gets the failing logs and the changed files, a bounded number of times. Model answers are validated
 * with zod; an invalid answer gets one repair call.
 *
 * Every prompt is counted by the API before it is sent; one that does not fit is assembled again with a
 * smaller budget (the assembler drops its lowest-priority pieces first) and counted again. When the
 * long-context expand call fails for size or availability, the change is generated in segments over
 * parts of the context and stitched by a cross-check pass.
 */
import { z } from "zod";
import { type AssembleResult, type PieceRef, pieceRefs } from "../assembly/assemble";
import { splitSystem } from "../assembly/prompt";
import { AppError } from "../errors";
import type { Change } from "../sandbox/apply-change";
import type { CommandResult, RunEvent } from "../sandbox/sandbox";
import { type CallOptions, type ChatMessage, type Completion, failureKind, STANDARD_WINDOW, type Usage } from "./anthropic-adapter";

export const Plan = z.object({
  summary: z.string().min(1),
  steps: z
    .array(z.object({ description: z.string().min(1), files: z.array(z.string()).default([]) }))
    .min(1)
    .max(40),
});
export type Plan = z.infer<typeof Plan>;

export const ProposedChange = z.object({
  files: z.array(z.object({ path: z.string().min(1), content: z.string() })).default([]),
  diff: z.string().optional(),
  sources: z.array(z.object({ claim: z.string(), chunkIds: z.array(z.string()) })).default([]),
});
export type ProposedChange = z.infer<typeof ProposedChange>;

export type Model = {
  complete(system: string, messages: ChatMessage[], opts: CallOptions): Promise<Completion>;
  countTokens(system: string, messages: ChatMessage[], longContext?: boolean): Promise<number>;
  inputLimit(maxTokens: number): number;
  cost(usage: Usage): number;
};
/**
 * Assembles a context: `query` drives retrieval; `instruction` (default: the query) is the prompt's
 * instruction section; `exclusiveHotPaths` keeps a session from adding its own hot paths (segment,
 * cross-check and repair passes focus on their files).
 */
export type AssembleOptions = { instruction?: string; exclusiveHotPaths?: boolean };
export type Assembler = (query: string, budget: number, hotPaths: string[], opts?: AssembleOptions) => Promise<AssembleResult>;
export type Verifier = (change: Change, onEvent: (e: RunEvent) => void) => Promise<{ runId: string; status: string; results: CommandResult[] }>;

/** What a run reports as it goes: the session streams these to its WebSocket clients. */
export type GenerationEvent =
  | {
      type: "context";
      pass: string;
      tokenTotal: number;
      tokenBudget: number;
      pieces: PieceRef[];
    }
  | { type: "trimmed"; pass: string; counted: number; limit: number; budget: number }
  | { type: "plan"; plan: Plan }
  | { type: "tokens"; pass: string; text: string }
  | {
      type: "call";
      pass: string;
      inputTokens: number;
      outputTokens: number;
      longContext: boolean;
      costUsd: number;
      promptSha256: string;
      chunks: string[];
      at: string;
    }
  | { type: "sandbox"; attempt: number; event: RunEvent }
  | { type: "verified"; attempt: number; runId: string; status: string }
  | { type: "repair"; attempt: number; failing: string }
  | { type: "fallback"; reason: string; segments: number };

export const PLAN_BUDGET = 16_000;
// Repair passes after a failing verification.
export const MAX_REPAIRS = 2;
// Answer room per pass.
export const PLAN_MAX_TOKENS = 8_000;
export const CHANGE_MAX_TOKENS = 32_000;
// Segmented fallback: parts of at most this many tokens, between 2 and MAX_SEGMENTS of them.
export const SEGMENT_TOKENS = 100_000;
export const MAX_SEGMENTS = 4;
// Re-assembly attempts when the API counts a prompt over its limit.
const FIT_ATTEMPTS = 3;
// Characters of an invalid answer sent back with the JSON repair request.
const REPAIR_ECHO_CHARS = 16_000;
// Characters of failing output that join a repair pass's retrieval query.
const REPAIR_QUERY_CHARS = 2_000;

const PLAN_FORMAT = 'Answer with JSON only: {"summary": string, "steps": [{"description": string, "files": [path]}]}.';
const CHANGE_FORMAT =
  'Answer with JSON only: {"files": [{"path", "content"}], "diff": unified diff or omitted, "sources": [{"claim", "chunkIds": [chunkId]}]}.';

const planInstruction = (prompt: string): string => `${prompt}\n\n${PLAN_FORMAT}`;
const expandInstruction = (prompt: string, plan: string): string => `${prompt}\n\nPlan:\n${plan}\n\n${CHANGE_FORMAT}`;
/** What later passes search with: the request and the plan's words, not the answer format or JSON. */
const planQuery = (prompt: string, plan: Plan): string => [prompt, plan.summary, ...plan.steps.map((s) => `${s.description} ${s.files.join(" ")}`)].join("\n");

/** The prompt of each pass without calling the model: what dryRun returns. */
export async function passPrompts(assemble: Assembler, prompt: string, budget: number, hotPaths: string[]) {
  const plan = await assemble(prompt, budgetFor(planInstruction(prompt), PLAN_BUDGET, budget), hotPaths, { instruction: planInstruction(prompt) });
  const expand = await assemble(prompt, budget, hotPaths, { instruction: expandInstruction(prompt, "(the plan from pass 1)") });
  return { plan, expand };
}

/**
 * A pass's budget: `context` tokens of sources on top of its instruction (about 3 characters a token, to
 * err high), within the request's budget.
 */
function budgetFor(instruction: string, context: number, budget: number): number {
  return Math.min(budget, context + Math.ceil(instruction.length / 3));
}

/** How many parts the segmented fallback splits a context of `tokens` into. */
export function segmentCount(tokens: number): number {
  return Math.min(MAX_SEGMENTS, Math.max(2, Math.ceil(tokens / SEGMENT_TOKENS)));
}

/**
 * `ratio`: how many tokens the API counts per token the local estimate counts, learnt from this run's
 * counts (the estimate is calibrated on older Claude tokenizers; newer models count more for the same
 * text), so later passes are assembled to fit at the first try.
 */
type Ctx = { model: Model; assemble: Assembler; emit: (e: GenerationEvent) => void; warnings: string[]; ratio: number };

/**
 * Assembles a pass's prompt and checks its size with the API's count. Over the limit (the budget, and
 * the model's window less the answer's room), it is assembled again with the budget scaled down by the
 * overshoot, which drops the lowest-priority pieces, and counted again. The budget a pass starts from
 * is the limit divided by the run's learnt count ratio.
 */
async function fitted(
  ctx: Ctx,
  p: { pass: string; query: string; instruction: string; budget: number; hotPaths: string[]; maxTokens: number; exclusiveHotPaths?: boolean },
): Promise<{ context: AssembleResult; counted: number; longContext: boolean }> {
  const { pass, maxTokens } = p;
  const limit = Math.min(p.budget, ctx.model.inputLimit(maxTokens));
  let tryBudget = Math.floor(limit / Math.max(1, ctx.ratio));
  for (let attempt = 0; ; attempt++) {
    const context = await ctx.assemble(p.query, tryBudget, p.hotPaths, {
      instruction: p.instruction,
      ...(p.exclusiveHotPaths ? { exclusiveHotPaths: true } : {}),
    });
    const { system, user } = splitSystem(context.contextText ?? "");
    const longContext = context.tokenTotal > STANDARD_WINDOW - maxTokens;
    const counted = await ctx.model.countTokens(system, [{ role: "user", content: user }], longContext);
    if (context.tokenTotal > 0) ctx.ratio = Math.max(ctx.ratio, counted / context.tokenTotal);
    if (counted <= limit) {
      ctx.emit({ type: "context", pass, tokenTotal: context.tokenTotal, tokenBudget: tryBudget, pieces: pieceRefs(context.contextPieces) });
      return { context, counted, longContext: longContext || counted > STANDARD_WINDOW - maxTokens };
    }
    ctx.emit({ type: "trimmed", pass, counted, limit, budget: tryBudget });
    if (attempt + 1 >= FIT_ATTEMPTS)
      throw new AppError(413, "prompt_too_long", `the ${pass} prompt still counts ${counted} tokens over the ${limit}-token limit after trimming`);
    const next = Math.floor(tryBudget * (limit / counted) * 0.97);
    ctx.warnings.push(
      `${pass}: the API counted ${counted} tokens, over the ${limit} limit; assembled again within ${next} tokens, dropping the lowest-priority pieces`,
    );
    tryBudget = next;
  }
}

/** Sends a fitted context and reads a JSON answer; records the call's usage, chunks and time. */
async function ask<S extends z.ZodType>(ctx: Ctx, pass: string, fit: Awaited<ReturnType<typeof fitted>>, schema: S, maxTokens: number): Promise<z.infer<S>> {
  const { system, user } = splitSystem(fit.context.contextText ?? "");
  const chunks = fit.context.contextPieces.map((p) => p.chunkId);
  // Each call is reported as soon as it returns, so a pass that fails later still accounts for it.
  const onCall = (c: Completion): void =>
    ctx.emit({
      type: "call",
      pass,
      inputTokens: c.usage.inputTokens,
      outputTokens: c.usage.outputTokens,
      longContext: c.longContext,
      costUsd: ctx.model.cost(c.usage),
      promptSha256: c.promptSha256,
      chunks,
      at: new Date().toISOString(),
    });
  return askJson(
    ctx.model,
    system,
    [{ role: "user", content: user }],
    schema,
    { maxTokens, longContext: fit.longContext, onText: (text) => ctx.emit({ type: "tokens", pass, text }) },
    onCall,
  );
}

/** The first JSON object in a model answer, checked against `schema`; one repair call if it is not valid. */
export async function askJson<S extends z.ZodType>(
  model: Pick<Model, "complete">,
  system: string,
  messages: ChatMessage[],
  schema: S,
  opts: CallOptions,
  onCall: (c: Completion) => void = () => undefined,
): Promise<z.infer<S>> {
  let conversation = messages;
  for (let attempt = 0; attempt < 2; attempt++) {
    const answer = await model.complete(system, conversation, opts);
    onCall(answer);
    const problem = validate(answer.text, schema);
    if (problem.ok) return problem.value;
    // The invalid answer goes back (its head only, so the repair call stays within the window).
    const echoed = answer.text.length > REPAIR_ECHO_CHARS ? `${answer.text.slice(0, REPAIR_ECHO_CHARS)}\n[…]` : answer.text;
    conversation = [
      ...conversation,
      { role: "assistant", content: echoed },
      { role: "user", content: `That answer is not valid: ${problem.error}. Reply again with valid JSON only.` },
    ];
  }
  throw new AppError(502, "model_invalid_output", "the model did not return valid JSON after one repair attempt");
}

function validate<S extends z.ZodType>(text: string, schema: S): { ok: true; value: z.infer<S> } | { ok: false; error: string } {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start < 0 || end <= start) return { ok: false, error: "no JSON object found" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(start, end + 1));
  } catch (e) {
    return { ok: false, error: `invalid JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  const r = schema.safeParse(parsed);
  return r.success ? { ok: true, value: r.data } : { ok: false, error: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") };
}

/** Citations of chunk ids that were not in the context sent: reported, never trusted. */
export function unknownCitations(change: ProposedChange, sent: Set<string>): string[] {
  return change.sources.flatMap((s) =>
    s.chunkIds.filter((id) => !sent.has(id)).map((id) => `claim "${s.claim}" cites ${id}, which was not in the context sent`),
  );
}

/** Files spread over `n` groups, largest first onto the lightest group, so the parts are about even. */
export function segmentFiles(pieces: AssembleResult["contextPieces"], n: number): string[][] {
  const tokens = new Map<string, number>();
  for (const p of pieces) if (p.kind === "chunk") tokens.set(p.sourcePath, (tokens.get(p.sourcePath) ?? 0) + p.tokenCount);
  const groups = Array.from({ length: n }, () => ({ files: [] as string[], tokens: 0 }));
  for (const [path, t] of [...tokens].sort((a, b) => b[1] - a[1])) {
    const g = groups.reduce((a, b) => (b.tokens < a.tokens ? b : a));
    g.files.push(path);
    g.tokens += t;
  }
  return groups.map((g) => g.files).filter((f) => f.length > 0);
}

/**
 * The fallback for a failed long-context expand: the change is proposed part by part, each part a
 * smaller context focused on a group of the files the full context held, then one cross-check pass
 * reads every part's proposal against the sources and merges them into one change.
 */
async function segmented(ctx: Ctx, prompt: string, plan: Plan, full: AssembleResult, budget: number, sent: Set<string>): Promise<ProposedChange> {
  const planJson = JSON.stringify(plan);
  const query = planQuery(prompt, plan);
  const groups = segmentFiles(full.contextPieces, segmentCount(full.tokenTotal));
  const partBudget = Math.min(SEGMENT_TOKENS, Math.max(PLAN_BUDGET, Math.floor(budget / Math.max(1, groups.length))));
  const proposals: ProposedChange[] = [];
  for (const [i, files] of groups.entries()) {
    const pass = `segment ${i + 1}`;
    const instruction = `${prompt}\n\nPlan:\n${planJson}\n\nThis is part ${i + 1} of ${groups.length} of the context, focused on: ${files.join(", ")}. Propose the changes the plan needs in these files; leave other files to the other parts.\n\n${CHANGE_FORMAT}`;
    const fit = await fitted(ctx, { pass, query, instruction, budget: partBudget, hotPaths: files, maxTokens: CHANGE_MAX_TOKENS, exclusiveHotPaths: true });
    for (const p of fit.context.contextPieces) sent.add(p.chunkId);
    proposals.push(await ask(ctx, pass, fit, ProposedChange, CHANGE_MAX_TOKENS));
  }
  const changed = [...new Set(proposals.flatMap((p) => p.files.map((f) => f.path)))];
  const parts = proposals.map((p, i) => `Part ${i + 1}: ${JSON.stringify(p)}`).join("\n");
  const instruction = `${prompt}\n\nPlan:\n${planJson}\n\nThe change was proposed in ${groups.length} parts:\n${parts}\n\nCross-check the parts against the sources above and against each other: merge them into one consistent change, combine edits to the same file, drop what contradicts the sources, and keep each claim's chunk ids.\n\n${CHANGE_FORMAT}`;
  const fit = await fitted(ctx, {
    pass: "cross-check",
    query,
    instruction,
    budget: budgetFor(instruction, SEGMENT_TOKENS, budget),
    hotPaths: changed,
    maxTokens: CHANGE_MAX_TOKENS,
    exclusiveHotPaths: true,
  });
  for (const p of fit.context.contextPieces) sent.add(p.chunkId);
  return ask(ctx, "cross-check", fit, ProposedChange, CHANGE_MAX_TOKENS);
}

export type GenerateResult = {
  plan: Plan;
  change: ProposedChange;
  expandContext: AssembleResult;
  verification: { runId: string; status: string; results: CommandResult[] }[];
  repairs: number;
  segmented: boolean;
  warnings: string[];
};

export async function generate(
  deps: { model: Model; assemble: Assembler; verify?: Verifier; emit?: (e: GenerationEvent) => void },
  prompt: string,
  budget: number,
  hotPaths: string[],
): Promise<GenerateResult> {
  const ctx: Ctx = {
    model: deps.model,
    assemble: deps.assemble,
    emit: deps.emit ?? (() => undefined),
    warnings: [],
    ratio: 1,
  };
  const planFit = await fitted(ctx, {
    pass: "plan",
    query: prompt,
    instruction: planInstruction(prompt),
    budget: budgetFor(planInstruction(prompt), PLAN_BUDGET, budget),
    hotPaths,
    maxTokens: PLAN_MAX_TOKENS,
  });
  const plan = await ask(ctx, "plan", planFit, Plan, PLAN_MAX_TOKENS);
  ctx.emit({ type: "plan", plan });
  const expandFit = await fitted(ctx, {
    pass: "expand",
    query: planQuery(prompt, plan),
    instruction: expandInstruction(prompt, JSON.stringify(plan)),
    budget,
    hotPaths: [...new Set([...hotPaths, ...plan.steps.flatMap((s) => s.files)])],
    maxTokens: CHANGE_MAX_TOKENS,
  });
  const sent = new Set(expandFit.context.contextPieces.map((p) => p.chunkId));
  let change: ProposedChange;
  let isSegmented = false;
  try {
    change = await ask(ctx, "expand", expandFit, ProposedChange, CHANGE_MAX_TOKENS);
  } catch (err) {
    const kind = failureKind(err);
    if (!kind) throw err;
    const reason = `the long-context expand call failed (${kind}: ${err instanceof Error ? err.message : String(err)})`;
    ctx.warnings.push(`${reason}; the change was generated in segments and cross-checked`);
    ctx.emit({ type: "fallback", reason, segments: segmentCount(expandFit.context.tokenTotal) });
    change = await segmented(ctx, prompt, plan, expandFit.context, budget, sent).catch((e: unknown) => {
      throw failureKind(e)
        ? new AppError(503, "model_unavailable", `${reason}, and the segmented fallback failed too (${e instanceof Error ? e.message : String(e)})`)
        : e;
    });
    isSegmented = true;
  }
  ctx.warnings.push(...expandFit.context.warnings, ...unknownCitations(change, sent));
  const verification: GenerateResult["verification"] = [];
  let repairs = 0;
  if (deps.verify) {
    for (;;) {
      const attempt = repairs;
      const run = await deps.verify({ files: change.files, deletions: [], ...(change.diff ? { diff: change.diff } : {}) }, (event) =>
        ctx.emit({ type: "sandbox", attempt, event }),
      );
      verification.push(run);
      ctx.emit({ type: "verified", attempt, runId: run.runId, status: run.status });
      if (run.status === "passed" || repairs >= MAX_REPAIRS) break;
      repairs++;
      const failing = run.results
        .filter((r) => r.exitCode !== 0)
        .map((r) => `$ ${r.command} (exit ${r.exitCode})\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`)
        .join("\n\n");
      ctx.emit({ type: "repair", attempt: repairs, failing });
      const instruction = `${prompt}\n\nThe proposed change fails its checks:\n${failing}\n\nThe change:\n${JSON.stringify(change)}\n\n${CHANGE_FORMAT}`;
      const repairFit = await fitted(ctx, {
        pass: `repair ${repairs}`,
        query: `${prompt}\n${failing.slice(-REPAIR_QUERY_CHARS)}`,
        instruction,
        // Minimal context: about 32k tokens of sources on top of the logs and the change.
        budget: budgetFor(instruction, PLAN_BUDGET * 2, budget),
        hotPaths: change.files.map((f) => f.path),
        maxTokens: CHANGE_MAX_TOKENS,
        exclusiveHotPaths: true,
      });
      for (const p of repairFit.context.contextPieces) sent.add(p.chunkId);
      change = await ask(ctx, `repair ${repairs}`, repairFit, ProposedChange, CHANGE_MAX_TOKENS);
      ctx.warnings.push(...unknownCitations(change, sent));
    }
  }
  return { plan, change, expandContext: expandFit.context, verification, repairs, segmented: isSegmented, warnings: ctx.warnings };
}
