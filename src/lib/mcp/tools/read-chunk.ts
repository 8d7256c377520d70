/** read_chunk: one chunk by id, live or superseded (GET /api/chunks/:chunkId), its lines numbered. */
import { z } from "zod";
import { readChunk } from "../../projects/read-chunk";
import { MAX_READ_CHARS, numberLines, splitLines, takeLines } from "../text";
import type { ToolDef } from "../types";

const Input = z.object({ chunkId: z.string().min(1).max(128).describe("A chunk id, as `---source:` lines and search results name them.") });

const Output = z.object({
  chunkId: z.string(),
  projectId: z.string(),
  path: z.string(),
  startLine: z.number(),
  endLine: z.number(),
  tokenCount: z.number(),
  superseded: z.boolean(),
  text: z.string(),
  truncated: z.boolean().describe("The text stops early; read on with read_file from `nextLine`."),
  nextLine: z.number().nullable(),
  secrets: z.array(z.object({ startLine: z.number(), endLine: z.number() }).loose()).describe("Secrets masked in the chunk (never a value)."),
});

export const readChunkTool: ToolDef<typeof Input, typeof Output> = {
  name: "read_chunk",
  title: "Read a chunk",
  description: "The text of one chunk with line numbers, its path and line range; a chunk replaced by a later ingest still reads, marked superseded.",
  scope: "read",
  readOnly: true,
  input: Input,
  output: Output,
  async run(deps, args) {
    const chunk = await readChunk({ db: deps.db, bucket: deps.env.CHUNKS }, args.chunkId, deps.key);
    const lines = splitLines(chunk.text);
    const shown = takeLines(lines, MAX_READ_CHARS);
    const truncated = shown.length < lines.length;
    // A line longer than a chunk is stored as several chunks naming that one line: their lines do not count up.
    const numbered = chunk.startLine + lines.length - 1 === chunk.endLine;
    const text = numbered ? numberLines(shown, chunk.startLine) : shown.join("\n");
    const nextLine = truncated && numbered ? chunk.startLine + shown.length : null;
    const head = `${chunk.path}:${chunk.startLine}-${chunk.endLine} (chunk ${chunk.chunkId}${chunk.superseded ? ", superseded" : ""})`;
    return {
      structured: {
        chunkId: chunk.chunkId,
        projectId: chunk.projectId,
        path: chunk.path,
        startLine: chunk.startLine,
        endLine: chunk.endLine,
        tokenCount: chunk.tokenCount,
        superseded: chunk.superseded,
        text,
        truncated,
        nextLine,
        secrets: "secrets" in chunk ? chunk.secrets : [],
      },
      text: `${head}\n${text}${truncated ? `\n[truncated: read_file ${chunk.path} from line ${nextLine ?? chunk.startLine} for the rest]` : ""}`,
    };
  },
};
