/** Queue messages of model-written summaries: they share the ingestion queue, its retries and its dead-letter path. */
import { z } from "zod";

// Paths per message: 100 paths of up to 1,024 bytes stay under the 128 KB message limit.
export const SUMMARY_PATHS_PER_MESSAGE = 100;

/** Files a batch indexed, to summarise once their content is in the project's shard. */
export const SummarizeFilesMessage = z.object({
  kind: z.literal("summarize"),
  projectId: z.string().min(1).max(64),
  jobId: z.string().min(1).max(64),
  paths: z.array(z.string().min(1).max(1024)).min(1).max(SUMMARY_PATHS_PER_MESSAGE),
});
export type SummarizeFilesMessage = z.infer<typeof SummarizeFilesMessage>;

/**
 * The project's directories, once its file summaries have gone quiet; `continued`: the pass had more
 * directories than one message does, and goes on at once.
 */
export const SummarizeDirsMessage = z.object({
  kind: z.literal("summarize-dirs"),
  projectId: z.string().min(1).max(64),
  continued: z.boolean().default(false),
});
export type SummarizeDirsMessage = z.infer<typeof SummarizeDirsMessage>;

export const SummaryMessage = z.discriminatedUnion("kind", [SummarizeFilesMessage, SummarizeDirsMessage]);
export type SummaryMessage = z.infer<typeof SummaryMessage>;

/** The summarize messages for `paths`, at most SUMMARY_PATHS_PER_MESSAGE each. */
export function summarizeMessages(projectId: string, jobId: string, paths: string[]): SummarizeFilesMessage[] {
  const out: SummarizeFilesMessage[] = [];
  for (let i = 0; i < paths.length; i += SUMMARY_PATHS_PER_MESSAGE)
    out.push({ kind: "summarize", projectId, jobId, paths: paths.slice(i, i + SUMMARY_PATHS_PER_MESSAGE) });
  return out;
}
