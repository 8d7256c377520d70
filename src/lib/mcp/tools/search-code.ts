/** search_code: the project's fused ranking for a query (the assembler's signals), as chunks with previews. */
import { z } from "zod";
import { getProject } from "../../projects/projects";
import type { ToolDef } from "../types";

const Input = z.object({
  projectId: z.string().min(1).max(64),
  query: z.string().trim().min(1).max(10_000).describe("Words, identifiers, paths or an error message."),
  limit: z.number().int().min(1).max(100).default(20),
});

const Hit = z.object({
  chunkId: z.string(),
  path: z.string(),
  startLine: z.number(),
  endLine: z.number(),
  score: z.number(),
  reasons: z.array(z.string()),
  preview: z.string(),
});

const Output = z.object({ projectId: z.string(), query: z.string(), results: z.array(Hit) });

export const searchCodeTool: ToolDef<typeof Input, typeof Output> = {
  name: "search_code",
  title: "Search code",
  description:
    "Ranked chunks of a project for a query: lexical (BM25) and vector matches, symbol definitions, named paths and error messages, fused as context assembly ranks them. " +
    "Each result has its path, line range, score, the signals that found it and a short preview; read more with read_chunk or read_file.",
  scope: "read",
  readOnly: true,
  input: Input,
  output: Output,
  async run(deps, args) {
    const project = await getProject(deps.db, args.projectId, deps.key);
    const results = await deps.env.PROJECT_INDEX.getByName(project.projectId).search(args.query, args.limit);
    const text = results.length
      ? results
          .map((r, i) => `${i + 1}. ${r.path}:${r.startLine}-${r.endLine} (chunk ${r.chunkId}, score ${r.score}; ${r.reasons.join(", ")})\n${r.preview}`)
          .join("\n\n")
      : `no match for "${args.query}"`;
    return { structured: { projectId: project.projectId, query: args.query, results }, text };
  },
};
