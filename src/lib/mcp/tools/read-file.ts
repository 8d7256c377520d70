/** read_file: a range of a file's lines, rebuilt from its chunks in the project's shard, numbered and paged. */
import { z } from "zod";
import { unwrap } from "../../errors";
import { getProject } from "../../projects/projects";
import { MAX_READ_CHARS, MAX_READ_LINES, numberLines } from "../text";
import type { ToolDef } from "../types";

const Input = z
  .object({
    projectId: z.string().min(1).max(64),
    path: z.string().min(1).max(1024).describe("The file's path in the project, as results name it."),
    startLine: z.number().int().min(1).default(1),
    endLine: z.number().int().min(1).optional().describe(`The last line to read (inclusive); at most ${MAX_READ_LINES} lines per call.`),
  })
  .refine((a) => a.endLine === undefined || a.endLine >= a.startLine, { message: "endLine is before startLine", path: ["endLine"] });

const Output = z.object({
  projectId: z.string(),
  path: z.string(),
  startLine: z.number(),
  endLine: z.number(),
  totalLines: z.number(),
  nextStartLine: z.number().nullable().describe("Where the next call starts when this one stopped before `endLine` or the end of the file."),
  text: z.string(),
});

export const readFileTool: ToolDef<typeof Input, typeof Output> = {
  name: "read_file",
  title: "Read a file",
  description: `Lines of a project's file with line numbers (\`cat -n\` style). At most ${MAX_READ_LINES} lines or about ${MAX_READ_CHARS} characters per call; \`nextStartLine\` says where to continue.`,
  scope: "read",
  readOnly: true,
  input: Input,
  output: Output,
  async run(deps, args) {
    const project = await getProject(deps.db, args.projectId, deps.key);
    const until = Math.min(args.endLine ?? Number.MAX_SAFE_INTEGER, args.startLine + MAX_READ_LINES - 1);
    const file = unwrap(await deps.env.PROJECT_INDEX.getByName(project.projectId).readFile(args.path, args.startLine, until, MAX_READ_CHARS));
    const wanted = Math.min(args.endLine ?? file.totalLines, file.totalLines);
    const nextStartLine = file.endLine < wanted || (args.endLine === undefined && file.endLine < file.totalLines) ? file.endLine + 1 : null;
    const text = numberLines(file.lines, file.startLine);
    const footer = nextStartLine ? `\n[lines ${file.startLine}-${file.endLine} of ${file.totalLines}: continue with startLine: ${nextStartLine}]` : "";
    return {
      structured: {
        projectId: project.projectId,
        path: file.path,
        startLine: file.startLine,
        endLine: file.endLine,
        totalLines: file.totalLines,
        nextStartLine,
        text,
      },
      text: `${text}${footer}`,
    };
  },
};
