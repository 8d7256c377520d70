/** Whether a project's files get model-written summaries, with which model and within what budget. */
import { eq } from "drizzle-orm";
import { assertModelAllowed, readGovernance } from "../governance";
import { type Db, tables } from "../storage";
import { usageTotals, utcDay } from "../usage";

/** The small model summaries and reranking use unless SMALL_MODEL names another: the cheapest current Haiku in the model table. */
export const DEFAULT_SMALL_MODEL = "claude-haiku-4-5";

export function smallModel(env: { SMALL_MODEL?: string | undefined }): string {
  return env.SMALL_MODEL || DEFAULT_SMALL_MODEL;
}

/** The deployment's default when an org has not chosen: on unless MODEL_SUMMARIES says "off". */
export function summariesDefault(env: { MODEL_SUMMARIES?: string | undefined }): boolean {
  return env.MODEL_SUMMARIES !== "off";
}

/** Whether an org's setting, the deployment's default and compliance mode allow model summaries. */
export function summariesWanted(setting: "on" | "off" | null, deploymentDefault: boolean, complianceMode: boolean): boolean {
  if (complianceMode) return false;
  return setting === null ? deploymentDefault : setting === "on";
}

export type SummaryPolicy =
  | { enabled: true; orgId: string; budgetUsd: number }
  | {
      enabled: false;
      orgId?: string;
      reason: string /** whether files are marked skipped (a policy said no) or left alone (the project is gone) */;
      record: boolean;
    };

/** The policy in force for a project's summaries now: settings change between ingestion and the queue's turn. */
export async function summaryPolicy(db: Db, projectId: string, model: string, deploymentDefault: boolean): Promise<SummaryPolicy> {
  const p = await db
    .select({ orgId: tables.projects.orgId, deletedAt: tables.projects.deletedAt })
    .from(tables.projects)
    .where(eq(tables.projects.projectId, projectId))
    .get();
  if (!p || p.deletedAt !== null) return { enabled: false, reason: "the project was deleted", record: false };
  const g = await readGovernance(db, p.orgId);
  if (g.complianceMode) return { enabled: false, orgId: p.orgId, reason: "compliance mode: nothing is sent to an external model", record: true };
  if (!summariesWanted(g.modelSummaries, deploymentDefault, false)) return { enabled: false, orgId: p.orgId, reason: "model summaries are off", record: true };
  try {
    assertModelAllowed(model, g);
  } catch {
    return { enabled: false, orgId: p.orgId, reason: `the org does not allow ${model}`, record: true };
  }
  return { enabled: true, orgId: p.orgId, budgetUsd: g.summaryBudgetUsd };
}

/** What the project spent on model summaries this UTC month. */
export async function summarySpentUsd(db: Db, orgId: string, projectId: string, now: number): Promise<number> {
  const today = utcDay(now);
  return (await usageTotals(db, orgId, `${today.slice(0, 7)}-01`, today, projectId, "summary")).costUsd;
}
