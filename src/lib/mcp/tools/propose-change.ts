/**
 * propose_change: plan, expand and verify a change (POST /api/ai/generate-prototype without a session),
 * with a progress notification per pass when the client asked for progress.
 */
import { z } from "zod";
import type { GenerationEvent } from "../../model/generate";
import { generateForProject } from "../../model/generate-for-project";
import { GeneratePrototype } from "../../model/run-generation";
import { getProject } from "../../projects/projects";
import { MAX_READ_CHARS } from "../text";
import type { ToolDef, ToolExtra } from "../types";

const Input = z.object({
  projectId: z.string().min(1).max(64),
  prompt: z.string().trim().min(1).max(200_000).describe("The change to make."),
  hotPaths: z.array(z.string().min(1).max(1024)).max(500).default([]),
  verify: z.boolean().default(true).describe("Run the project's checks on the change in the sandbox (repairing a failure)."),
  dryRun: z.boolean().default(false).describe("Return the plan and expand prompts the model would get, without calling it."),
});

const Output = z.object({
  dryRun: z.boolean(),
  id: z.string().nullable(),
  plan: z.object({ summary: z.string() }).loose().nullable(),
  diff: z.string().describe("A unified diff, or the changed files' contents under `+++ path` headers."),
  files: z.array(z.string()),
  verification: z.array(z.object({ runId: z.string(), status: z.string() })),
  citations: z.array(z.object({ claim: z.string(), chunkIds: z.array(z.string()) }).loose()),
  warnings: z.array(z.string()),
  prompts: z.object({ plan: z.string(), expand: z.string(), truncated: z.boolean() }).nullable(),
});

/** What a pass reports as progress: context assembled, plan made, model calls, sandbox verdicts and repairs. */
function progressMessage(e: GenerationEvent): string | undefined {
  if (e.type === "context") return `${e.pass}: ${e.tokenTotal} tokens of context`;
  if (e.type === "plan") return `plan: ${e.plan.summary}`;
  if (e.type === "call") return `${e.pass}: model answered (${e.outputTokens} tokens)`;
  if (e.type === "verified") return `verification ${e.attempt}: ${e.status}`;
  if (e.type === "repair") return `repair ${e.attempt}`;
  if (e.type === "fallback") return `segmented into ${e.segments} parts`;
  return undefined;
}

function progressReporter(extra: ToolExtra): ((e: GenerationEvent) => void) | undefined {
  const token = extra._meta?.progressToken;
  if (token === undefined) return undefined;
  let progress = 0;
  return (e) => {
    const message = progressMessage(e);
    if (!message) return;
    progress += 1;
    extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress, message } }).catch((err: unknown) => {
      console.error(JSON.stringify({ progress: message, error: String(err) }));
    });
  };
}

// Each prompt shows this many characters: its head (the context) and its tail (the instruction and response format).
const PROMPT_CHARS = MAX_READ_CHARS / 2;

const cut = (s: string | undefined): string => {
  if (!s || s.length <= PROMPT_CHARS) return s ?? "";
  const half = PROMPT_CHARS / 2;
  return `${s.slice(0, half)}\n[… ${s.length - 2 * half} characters cut …]\n${s.slice(-half)}`;
};

export const proposeChangeTool: ToolDef<typeof Input, typeof Output> = {
  name: "propose_change",
  title: "Propose a change",
  description:
    "Plans and writes a change to a project with Winky's model over its assembled context, verifies it in the sandbox (with repairs), and returns the diff, " +
    "the verification result and the chunks each claim cites. Sends a progress notification per pass when the call has a progressToken. dryRun returns the prompts instead.",
  scope: "generate",
  readOnly: false,
  input: Input,
  output: Output,
  async run(deps, args, extra) {
    const project = await getProject(deps.db, args.projectId, deps.key);
    // Refused before any model call when the org's (or the project's) spend quota is used up, as over REST.
    const quotaWarnings = args.dryRun ? [] : await deps.guardQuota("spend", project.projectId);
    const body = GeneratePrototype.parse({
      projectId: project.projectId,
      prompt: args.prompt,
      hotPaths: args.hotPaths,
      verify: args.verify,
      dryRun: args.dryRun,
    });
    const result = await generateForProject({ env: deps.env, db: deps.db, shards: deps.env.PROJECT_INDEX }, project, deps.key, body, progressReporter(extra));
    if (result.dryRun) {
      const truncated = [result.prompts.plan, result.prompts.expand].some((p) => (p?.length ?? 0) > PROMPT_CHARS);
      const prompts = { plan: cut(result.prompts.plan), expand: cut(result.prompts.expand), truncated };
      return {
        structured: { dryRun: true, id: null, plan: null, diff: "", files: [], verification: [], citations: [], warnings: quotaWarnings, prompts },
        text: `plan prompt:\n${prompts.plan}\n\nexpand prompt:\n${prompts.expand}${truncated ? "\n[prompts cut short]" : ""}`,
      };
    }
    const files = result.diffs.flatMap((d) => ("path" in d && d.path ? [d.path] : []));
    const diff = result.diffs.map((d) => ("diff" in d ? d.diff : `+++ ${d.path}\n${d.content}`)).join("\n");
    const verdict = result.verification.at(-1)?.status ?? "not verified";
    const warnings = [...result.warnings, ...quotaWarnings];
    return {
      structured: {
        dryRun: false,
        id: result.id,
        plan: result.plan,
        diff,
        files,
        verification: result.verification,
        citations: result.sources,
        warnings,
        prompts: null,
      },
      text: `${result.plan.summary}\nverification: ${verdict}\n\n${diff}\n\nsources:\n${result.sources.map((s) => `- ${s.claim}: ${s.chunkIds.join(", ")}`).join("\n")}`,
    };
  },
};
