/** find_symbol: a name's definitions, references and imports from the project's symbol graph. */
import { z } from "zod";
import { getProject } from "../../projects/projects";
import type { ToolDef } from "../types";

// Hits of each kind one answer lists.
const PER_KIND = 50;

const Input = z.object({
  projectId: z.string().min(1).max(64),
  name: z.string().trim().min(1).max(256).describe("An identifier (function, class, type, constant) or, for imports, a module path."),
});

const Hit = z.object({ path: z.string(), line: z.number(), kind: z.string(), signature: z.string() });
const Output = z.object({
  projectId: z.string(),
  name: z.string(),
  definitions: z.array(Hit),
  references: z.array(Hit),
  imports: z.array(Hit),
  truncated: z.boolean(),
});

const list = (title: string, hits: z.infer<typeof Hit>[]) =>
  hits.length ? `${title}:\n${hits.map((h) => `  ${h.path}:${h.line}${h.signature ? `  ${h.signature}` : ""}`).join("\n")}` : `${title}: none`;

export const findSymbolTool: ToolDef<typeof Input, typeof Output> = {
  name: "find_symbol",
  title: "Find a symbol",
  description: `Where a name is defined, referenced and imported in a project (an exact match first, else any case), up to ${PER_KIND} of each.`,
  scope: "read",
  readOnly: true,
  input: Input,
  output: Output,
  async run(deps, args) {
    const project = await getProject(deps.db, args.projectId, deps.key);
    const found = await deps.env.PROJECT_INDEX.getByName(project.projectId).findSymbol(args.name, PER_KIND);
    const text = [list("definitions", found.definitions), list("references", found.references), list("imports", found.imports)].join("\n");
    return { structured: { projectId: project.projectId, ...found }, text: `${found.name}\n${text}${found.truncated ? "\n[more hits than shown]" : ""}` };
  },
};
