/**
 * Multi-pass generation (spec: plan, expand, verify). Plan: the project summary and the top chunks,
 * answered as a JSON plan. Expand: the plan with the large context, answered as files/diff with the
 * chunk ids behind each claim. Verify: the change runs in the sandbox; on failure a targeted repair pass
 * gets the failing logs and the changed files, a bounded number of times. Model answers are validated
 * with zod; an invalid answer gets one repair call.
 */
import { z } from "zod";
import type { AssembleResult } from "../assembly/assemble";
import { AppError } from "../errors";
import type { Change } from "../sandbox/apply-change";
import type { CommandResult } from "../sandbox/sandbox";
import type { ChatMessage, Completion } from "./anthropic-adapter";

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

export type Model = { complete(system: string, messages: ChatMessage[], opts: { maxTokens: number; onText?: (t: string) => void }): Promise<Completion> };
export type Assembler = (prompt: string, budget: number, hotPaths: string[]) => Promise<AssembleResult>;
export type Verifier = (change: Change) => Promise<{ runId: string; status: string; results: CommandResult[] }>;

export const PLAN_BUDGET = 16_000;
// Repair passes after a failing verification.
export const MAX_REPAIRS = 2;

const PLAN_FORMAT = 'Answer with JSON only: {"summary": string, "steps": [{"description": string, "files": [path]}]}.';
const CHANGE_FORMAT =
  'Answer with JSON only: {"files": [{"path", "content"}], "diff": unified diff or omitted, "sources": [{"claim", "chunkIds": [chunkId]}]}.';

/** The prompt of each pass without calling the model: what dryRun returns. */
export async function passPrompts(assemble: Assembler, prompt: string, budget: number, hotPaths: string[]) {
  const plan = await assemble(`${prompt}\n\n${PLAN_FORMAT}`, Math.min(PLAN_BUDGET, budget), hotPaths);
  const expand = await assemble(`${prompt}\n\nPlan: (the plan from pass 1)\n\n${CHANGE_FORMAT}`, budget, hotPaths);
  return { plan, expand };
}

/** The first JSON object in a model answer, checked against `schema`; one repair call if it is not valid. */
export async function askJson<S extends z.ZodType>(
  model: Model,
  system: string,
  messages: ChatMessage[],
  schema: S,
  onText?: (t: string) => void,
): Promise<{ value: z.infer<S>; calls: Completion[] }> {
  const calls: Completion[] = [];
  let conversation = messages;
  for (let attempt = 0; attempt < 2; attempt++) {
    const answer = await model.complete(system, conversation, { maxTokens: 16_000, ...(onText ? { onText } : {}) });
    calls.push(answer);
    const problem = validate(answer.text, schema);
    if (problem.ok) return { value: problem.value, calls };
    conversation = [
      ...conversation,
      { role: "assistant", content: answer.text },
      { role: "user", content: `That answer is not valid: ${problem.error}. ${"Reply again with valid JSON only."}` },
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

export type GenerateResult = {
  plan: Plan;
  change: ProposedChange;
  expandContext: AssembleResult;
  verification: { runId: string; status: string; results: CommandResult[] }[];
  repairs: number;
  warnings: string[];
  usage: { inputTokens: number; outputTokens: number };
};

export async function generate(
  deps: { model: Model; assemble: Assembler; verify?: Verifier },
  prompt: string,
  budget: number,
  hotPaths: string[],
  onText?: (pass: string, t: string) => void,
): Promise<GenerateResult> {
  const usage = { inputTokens: 0, outputTokens: 0 };
  const tally = (calls: Completion[]): void => {
    for (const c of calls) {
      usage.inputTokens += c.usage.inputTokens;
      usage.outputTokens += c.usage.outputTokens;
    }
  };
  const planContext = await deps.assemble(`${prompt}\n\n${PLAN_FORMAT}`, Math.min(PLAN_BUDGET, budget), hotPaths);
  const plan = await askJson(deps.model, "", [{ role: "user", content: planContext.contextText ?? "" }], Plan, (t) => onText?.("plan", t));
  tally(plan.calls);
  const expandContext = await deps.assemble(`${prompt}\n\nPlan:\n${JSON.stringify(plan.value)}\n\n${CHANGE_FORMAT}`, budget, [
    ...new Set([...hotPaths, ...plan.value.steps.flatMap((s) => s.files)]),
  ]);
  const sent = new Set(expandContext.contextPieces.map((p) => p.chunkId));
  let change = await askJson(deps.model, "", [{ role: "user", content: expandContext.contextText ?? "" }], ProposedChange, (t) => onText?.("expand", t));
  tally(change.calls);
  const warnings = [...expandContext.warnings, ...unknownCitations(change.value, sent)];
  const verification: GenerateResult["verification"] = [];
  let repairs = 0;
  if (deps.verify) {
    for (;;) {
      const run = await deps.verify({ files: change.value.files, deletions: [], ...(change.value.diff ? { diff: change.value.diff } : {}) });
      verification.push(run);
      if (run.status === "passed" || repairs >= MAX_REPAIRS) break;
      repairs++;
      const failing = run.results
        .filter((r) => r.exitCode !== 0)
        .map((r) => `$ ${r.command} (exit ${r.exitCode})\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`)
        .join("\n\n");
      const repairContext = await deps.assemble(
        `${prompt}\n\nThe proposed change fails its checks:\n${failing}\n\nThe change:\n${JSON.stringify(change.value)}\n\n${CHANGE_FORMAT}`,
        Math.min(PLAN_BUDGET * 2, budget),
        change.value.files.map((f) => f.path),
      );
      change = await askJson(deps.model, "", [{ role: "user", content: repairContext.contextText ?? "" }], ProposedChange, (t) => onText?.("repair", t));
      tally(change.calls);
      warnings.push(...unknownCitations(change.value, new Set([...sent, ...repairContext.contextPieces.map((p) => p.chunkId)])));
    }
  }
  return { plan: plan.value, change: change.value, expandContext, verification, repairs, warnings, usage };
}
