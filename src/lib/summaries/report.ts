/** A project's model-written summaries as its users see them: on or off and why, the month's spend against the budget, files by state. */
import type { SummaryReport } from "../index-store/model-summaries";
import type { Db } from "../storage";
import { summaryPolicy, summarySpentUsd } from "./settings";

export async function projectSummaryReport(
  deps: { db: Db; shard: { summaryReport(): Promise<SummaryReport> }; hasKey: boolean; model: string; deploymentDefault: boolean },
  project: { projectId: string; orgId: string },
  now = Date.now(),
) {
  const policy = await summaryPolicy(deps.db, project.projectId, deps.model, deps.deploymentDefault);
  const enabled = deps.hasKey && policy.enabled;
  const reason = !deps.hasKey ? "no model key is configured: extractive summaries only" : policy.enabled ? null : policy.reason;
  return {
    projectId: project.projectId,
    enabled,
    reason,
    model: deps.model,
    budgetUsd: policy.enabled ? policy.budgetUsd : null,
    spentUsdThisMonth: Math.round((await summarySpentUsd(deps.db, project.orgId, project.projectId, now)) * 1e6) / 1e6,
    ...(await deps.shard.summaryReport()),
  };
}
