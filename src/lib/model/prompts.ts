/**
 * Every text generation adds to a prompt: each pass's instruction with its answer format, the query
 * later passes retrieve with, and the request to fix an invalid answer. The spec's system prompt and the
 * layout of the sources are the assembler's (`../assembly/prompt`).
 */
import type { CommandResult } from "../sandbox/sandbox";
import type { Plan, ProposedChange } from "./schemas";

// The assert stage: every claim names where it comes from, as the ---source lines of the prompt give it.
const CITE = 'Every step and every claim cites at least one source as "chunkId:startLine-endLine", lines within a ---source line above.';
export const PLAN_FORMAT = `Answer with JSON only: {"summary": string, "steps": [{"description": string, "files": [path], "sources": ["chunkId:start-end"]}]}. ${CITE}`;
export const CHANGE_FORMAT = `Answer with JSON only: {"files": [{"path", "content"}], "diff": unified diff or omitted, "sources": [{"claim", "chunkIds": ["chunkId:start-end"]}]}. ${CITE}`;
/** What a dryRun's expand prompt shows where the plan would be. */
export const DRY_RUN_PLAN = "(the plan from pass 1)";
// Characters of each failing command's stdout and stderr (their tails) a repair pass is shown.
const FAILING_OUTPUT_CHARS = 4000;

export const planInstruction = (prompt: string): string => `${prompt}\n\n${PLAN_FORMAT}`;
export const expandInstruction = (prompt: string, plan: string): string => `${prompt}\n\nPlan:\n${plan}\n\n${CHANGE_FORMAT}`;

/** What later passes search with: the request and the plan's words, not the answer format or JSON. */
export const planQuery = (prompt: string, plan: Plan): string =>
  [prompt, plan.summary, ...plan.steps.map((s) => `${s.description} ${s.files.join(" ")}`)].join("\n");

export const segmentInstruction = (prompt: string, planJson: string, part: number, parts: number, files: string[]): string =>
  `${prompt}\n\nPlan:\n${planJson}\n\nThis is part ${part} of ${parts} of the context, focused on: ${files.join(", ")}. Propose the changes the plan needs in these files; leave other files to the other parts.\n\n${CHANGE_FORMAT}`;

export function crossCheckInstruction(prompt: string, planJson: string, proposals: ProposedChange[]): string {
  const parts = proposals.map((p, i) => `Part ${i + 1}: ${JSON.stringify(p)}`).join("\n");
  return `${prompt}\n\nPlan:\n${planJson}\n\nThe change was proposed in ${proposals.length} parts:\n${parts}\n\nCross-check the parts against the sources above and against each other: merge them into one consistent change, combine edits to the same file, drop what contradicts the sources, and keep each claim's chunk ids.\n\n${CHANGE_FORMAT}`;
}

/** The failing commands of a verification run, each with the tail of its output. */
export const failingOutput = (results: CommandResult[]): string =>
  results
    .filter((r) => r.exitCode !== 0)
    .map((r) => `$ ${r.command} (exit ${r.exitCode})\n${r.stdout.slice(-FAILING_OUTPUT_CHARS)}\n${r.stderr.slice(-FAILING_OUTPUT_CHARS)}`)
    .join("\n\n");

export const repairInstruction = (prompt: string, failing: string, change: ProposedChange): string =>
  `${prompt}\n\nThe proposed change fails its checks:\n${failing}\n\nThe change:\n${JSON.stringify(change)}\n\n${CHANGE_FORMAT}`;

/** The follow-up turn after an answer whose claims lack sources (the assert stage's one repair). */
export const sourcesRequest = (problems: { claim: string; problem: string }[]): string =>
  `Some claims of that answer have no source that was in the prompt:\n${problems.map((p) => `- "${p.claim}": ${p.problem}`).join("\n")}\n\nReply again with the same answer as JSON only, each claim and step citing at least one chunkId:startLine-endLine from the ---source lines above; drop a claim you cannot source.`;

/** The follow-up turn after an answer that did not validate. */
export const invalidAnswerRequest = (error: string): string => `That answer is not valid: ${error}. Reply again with valid JSON only.`;
