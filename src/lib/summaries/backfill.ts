/**
 * A backfill: model summaries for the files of a project that have none settled for their current content
 * (ingested while summaries were off, failed, or stopped at the budget), asked for through the ingestion
 * queue like an ingestion's; the project's budget and the org's quotas still bound what it spends.
 */
import { AppError } from "../errors";
import type { Db } from "../storage";
import { summarizeMessages } from "./messages";
import { summaryPolicy } from "./settings";

// Paths read from the shard at once, and messages sent in one batch (a queue batch takes at most 100).
const PATHS_PER_PAGE = 2_000;
const MESSAGES_PER_SEND = 100;

export type BackfillDeps = {
  db: Db;
  shard: { unsettledSummaryPaths(after: string | null, limit: number): Promise<string[]> };
  queue: { sendBatch(messages: { body: unknown }[]): Promise<unknown> };
  hasKey: boolean;
  model: string;
  deploymentDefault: boolean;
};

/** Queues the project's unsettled files; 409 `summaries_off` (with the reason) when summaries would not be made. */
export async function backfillSummaries(deps: BackfillDeps, projectId: string): Promise<{ backfillId: string; files: number; messages: number }> {
  if (!deps.hasKey) throw new AppError(409, "summaries_off", "no model key is configured: extractive summaries only");
  const policy = await summaryPolicy(deps.db, projectId, deps.model, deps.deploymentDefault);
  if (!policy.enabled) throw new AppError(409, "summaries_off", policy.reason);
  const backfillId = `bf_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
  let files = 0;
  let messages = 0;
  let after: string | null = null;
  for (;;) {
    const paths = await deps.shard.unsettledSummaryPaths(after, PATHS_PER_PAGE);
    if (paths.length === 0) break;
    const batch = summarizeMessages(projectId, backfillId, paths);
    for (let i = 0; i < batch.length; i += MESSAGES_PER_SEND) await deps.queue.sendBatch(batch.slice(i, i + MESSAGES_PER_SEND).map((body) => ({ body })));
    files += paths.length;
    messages += batch.length;
    after = paths[paths.length - 1] ?? null;
    if (paths.length < PATHS_PER_PAGE) break;
  }
  return { backfillId, files, messages };
}
