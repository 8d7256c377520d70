/**
 * assemble_context: the REST assembly (POST /api/context/assemble) as a tool — the same shard call,
 * audit record, quota guard and metering — answering one page of the context text at a time.
 */
import { z } from "zod";
import { assembleForProject, readsBeforeAssembly } from "../../assembly/assemble-for-project";
import { SECTION } from "../../assembly/prompt";
import { AppError } from "../../errors";
import { policyOf, resolveBudget } from "../../governance";
import { assemblyEvents } from "../../metrics";
import { DEFAULT_MODEL } from "../../model/anthropic-adapter";
import { readNow } from "../../storage";
import { countWith, tokenizerFor } from "../../tokenizer";
import { pageBlocks } from "../pages";
import { PAGE_TOKENS } from "../text";
import type { ToolDef } from "../types";

const Input = z.object({
  projectId: z.string().min(1).max(64).describe("The project to assemble from (index_status lists them)."),
  prompt: z.string().trim().min(1).max(200_000).describe("The task or question; files, symbols and error messages it names weigh most."),
  budget: z
    .union([z.number().int().min(4096).max(1_000_000), z.literal("max")])
    .optional()
    .describe(
      `Tokens of context to assemble (default ${PAGE_TOKENS}), or "max" for the org's or project's limit; more than the limit is refused. Over ${PAGE_TOKENS}, the text comes in pages.`,
    ),
  hotPaths: z.array(z.string().min(1).max(1024)).max(500).default([]).describe("Paths to put first (files being edited)."),
  page: z.number().int().min(1).default(1).describe("Which page of the text to return (see `nextPage`); the same call with a later page."),
});

const Piece = z.object({
  chunkId: z.string(),
  kind: z.string(),
  path: z.string(),
  startLine: z.number(),
  endLine: z.number(),
  tokens: z.number(),
  score: z.number(),
  reasons: z.array(z.string()),
});

const Output = z.object({
  callId: z.string(),
  projectId: z.string(),
  tokenBudget: z.number(),
  tokenTotal: z.number(),
  page: z.number(),
  pages: z.number(),
  nextPage: z.number().nullable(),
  text: z.string(),
  pieces: z.array(Piece).describe("The pieces whose text is on this page, in order."),
  warnings: z.array(z.string()),
});

const CONTEXT_SECTIONS = new Set<string>(Object.values(SECTION));

export const assembleContextTool: ToolDef<typeof Input, typeof Output> = {
  name: "assemble_context",
  title: "Assemble context",
  description:
    "The most relevant code of a project for a prompt, within a token budget: whole small files, the relevant chunks of large ones, then summaries. " +
    "Each snippet starts with a `---source: <chunkId>, <path>:<start>-<end>` line to cite. Budgets over one page return the first page and `nextPage`: " +
    "call again with the same arguments and `page` to read on.",
  scope: "read",
  readOnly: true,
  input: Input,
  output: Output,
  async run(deps, args) {
    // The project, the org's settings and the quota as one batch (one round trip to D1), as the REST route reads them.
    const [project, governance, warnings] = await readNow(deps.db, readsBeforeAssembly(deps.db, deps.key, args.projectId));
    deps.passOnWarnings(warnings);
    const budget = resolveBudget(args.budget, PAGE_TOKENS, policyOf(governance, project));
    const model = DEFAULT_MODEL;
    const tokenizer = tokenizerFor(model);
    // `cachedKeys: []` holds nothing, so every block comes back with its text, as blocks that page exactly.
    const { callId, ...result } = await assembleForProject(
      { db: deps.db, shards: deps.env.PROJECT_INDEX },
      {
        projectId: project.projectId,
        orgId: deps.key.orgId,
        model,
        prompt: args.prompt,
        budget,
        hotPaths: args.hotPaths,
        tokenizer,
        conversation: [],
        includeText: true,
        cachedKeys: [],
      },
    );
    deps.meter({ projectId: project.projectId, model, tokensAssembled: result.tokenTotal, requests: 1 });
    deps.measure(assemblyEvents({ orgId: deps.key.orgId, projectId: project.projectId }, result.timings.shard ?? 0, result));
    // The context sections only: the system prompt, instruction and response format are for our own model, not the caller's.
    const blocks = (result.blocks ?? []).filter((b) => b.key !== undefined || CONTEXT_SECTIONS.has(b.text));
    const pages = pageBlocks(blocks, PAGE_TOKENS, (t) => countWith(tokenizer, t));
    const page = pages[args.page - 1];
    if (!page && args.page > 1) throw new AppError(400, "invalid_request", `page ${args.page} is past the last page (${pages.length})`);
    // Keyed blocks and pieces are both in prompt order (render.ts), so a block's piece is the one at its index.
    const keyed = blocks.flatMap((b) => (b.key ? [b.key] : []));
    const onPage = new Set(page?.keys ?? []);
    const pieces = result.contextPieces
      .filter((_, i) => onPage.has(keyed[i] ?? ""))
      .map((p) => ({
        chunkId: p.chunkId,
        kind: p.kind,
        path: p.sourcePath,
        startLine: p.startLine,
        endLine: p.endLine,
        tokens: p.tokenCount,
        score: p.score,
        reasons: p.reasons,
      }));
    const nextPage = args.page < pages.length ? args.page + 1 : null;
    const text = page?.text ?? "";
    const footer = nextPage
      ? `\n[page ${args.page} of ${pages.length}: call assemble_context again with the same arguments and page: ${nextPage} for the rest]`
      : "";
    return {
      structured: {
        callId,
        projectId: project.projectId,
        tokenBudget: result.tokenBudget,
        tokenTotal: result.tokenTotal,
        page: args.page,
        pages: pages.length,
        nextPage,
        text,
        pieces,
        warnings: [...result.warnings, ...warnings],
      },
      text: `${text}${footer}`,
    };
  },
};
