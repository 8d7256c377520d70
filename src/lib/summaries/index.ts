/** Model-written summaries: made in the ingestion queue, cached per project by content hash, within a budget. */

export { backfillSummaries } from "./backfill";
export { SUMMARY_PATHS_PER_MESSAGE, SummarizeDirsMessage, SummarizeFilesMessage, SummaryMessage, summarizeMessages } from "./messages";
export { projectSummaryReport } from "./report";
export { DEFAULT_SMALL_MODEL, smallModel, summariesDefault, summariesWanted, summaryPolicy, summarySpentUsd } from "./settings";
export { type SummaryDeps, type SummaryModel, type SummaryShard, summariesDeadLettered, summarizeDirectories, summarizeFiles } from "./summarize";
