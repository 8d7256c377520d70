/** An org's governance settings: context budget limit, allowed models, generation default, compliance mode, install scripts. */
import { eq } from "drizzle-orm";
import { z } from "zod";
import { type Db, type Read, read, readNow, tables } from "../storage";

/** The largest budget the API takes at all; an org or project limit can only lower it. */
export const API_MAX_CONTEXT_TOKENS = 1_000_000;
// Generation's smallest budget: a limit below it would leave no budget generation can run with.
export const MIN_CONTEXT_LIMIT = 16_000;
export const GENERATION_DEFAULTS = ["on", "off"] as const;
export type GenerationDefault = (typeof GENERATION_DEFAULTS)[number];

export const MODEL_SUMMARY_SETTINGS = ["on", "off"] as const;
/** What a project may spend on model-written summaries per UTC month unless the org sets otherwise. */
export const DEFAULT_SUMMARY_BUDGET_USD = 1;
// The largest monthly summary budget an org may set per project.
export const MAX_SUMMARY_BUDGET_USD = 1000;

export type GovernanceSettings = {
  maxContextTokens: number | null;
  allowedModels: string[] | null;
  generationDefault: GenerationDefault;
  complianceMode: boolean;
  /** "on"/"off"; null: the deployment's default (the MODEL_SUMMARIES var, on unless it says "off"). */
  modelSummaries: (typeof MODEL_SUMMARY_SETTINGS)[number] | null;
  summaryBudgetUsd: number;
  rerank: boolean;
  /** Whether sandbox installs may run package install scripts (off by default: they are arbitrary code with network). */
  allowInstallScripts: boolean;
};

/** A context-token limit as settings take it: null clears it. */
export const ContextLimit = z.number().int().min(MIN_CONTEXT_LIMIT).max(API_MAX_CONTEXT_TOKENS).nullable();

/** What PATCH takes of them; null restores a default (no limit, any model, "on", off, the deployment's, $1, off). */
export const GovernancePatch = z.object({
  maxContextTokens: ContextLimit,
  allowedModels: z.array(z.string().trim().min(1).max(128)).min(1).max(50).nullable(),
  generationDefault: z.enum(GENERATION_DEFAULTS).nullable(),
  complianceMode: z.boolean().nullable(),
  modelSummaries: z.enum(MODEL_SUMMARY_SETTINGS).nullable(),
  summaryBudgetUsd: z.number().min(0).max(MAX_SUMMARY_BUDGET_USD).nullable(),
  rerank: z.boolean().nullable(),
  allowInstallScripts: z.boolean().nullable(),
});
export type GovernancePatch = Partial<z.infer<typeof GovernancePatch>>;

const StoredModels = z.array(z.string());

export async function readGovernance(db: Db, orgId: string): Promise<GovernanceSettings> {
  return readNow(db, governanceRead(db, orgId));
}

/** The org's settings as a read to send with others (`readAtOnce`). */
export function governanceRead(db: Db, orgId: string): Read<GovernanceSettings> {
  const o = tables.orgSettings;
  const query = db
    .select({
      max: o.maxContextTokens,
      models: o.allowedModels,
      generation: o.generationDefault,
      compliance: o.complianceMode,
      modelSummaries: o.modelSummaries,
      summaryBudgetUsd: o.summaryBudgetUsd,
      rerank: o.rerank,
      scripts: o.allowInstallScripts,
    })
    .from(o)
    .where(eq(o.orgId, orgId));
  return read(query, ([row]) => {
    const models = row?.models ? StoredModels.safeParse(JSON.parse(row.models)) : undefined;
    return {
      maxContextTokens: row?.max ?? null,
      allowedModels: models?.success ? models.data : null,
      generationDefault: row?.generation === "off" ? "off" : "on",
      complianceMode: row?.compliance === 1,
      modelSummaries: row?.modelSummaries === "on" || row?.modelSummaries === "off" ? row.modelSummaries : null,
      summaryBudgetUsd: row?.summaryBudgetUsd ?? DEFAULT_SUMMARY_BUDGET_USD,
      rerank: row?.rerank === 1,
      allowInstallScripts: row?.scripts === 1,
    };
  });
}

/** Writes the fields given; a field left out keeps its value. */
export async function updateGovernance(db: Db, orgId: string, patch: GovernancePatch): Promise<void> {
  const set: Partial<typeof tables.orgSettings.$inferInsert> = { updatedAt: Date.now() };
  if (patch.maxContextTokens !== undefined) set.maxContextTokens = patch.maxContextTokens;
  if (patch.allowedModels !== undefined) set.allowedModels = patch.allowedModels === null ? null : JSON.stringify([...new Set(patch.allowedModels)]);
  if (patch.generationDefault !== undefined) set.generationDefault = patch.generationDefault;
  if (patch.complianceMode !== undefined) set.complianceMode = patch.complianceMode ? 1 : 0;
  if (patch.modelSummaries !== undefined) set.modelSummaries = patch.modelSummaries;
  if (patch.summaryBudgetUsd !== undefined) set.summaryBudgetUsd = patch.summaryBudgetUsd;
  if (patch.rerank !== undefined) set.rerank = patch.rerank ? 1 : 0;
  if (patch.allowInstallScripts !== undefined) set.allowInstallScripts = patch.allowInstallScripts ? 1 : 0;
  await db
    .insert(tables.orgSettings)
    .values({ orgId, ...set })
    .onConflictDoUpdate({ target: tables.orgSettings.orgId, set });
}

/**
 * Whether the org that owns the project is in compliance mode. A project that is gone answers true: what
 * is left of it is never sent anywhere.
 */
export async function isProjectInComplianceMode(db: Db, projectId: string): Promise<boolean> {
  const p = tables.projects;
  const o = tables.orgSettings;
  const row = await db
    .select({ orgId: p.orgId, compliance: o.complianceMode })
    .from(p)
    .leftJoin(o, eq(o.orgId, p.orgId))
    .where(eq(p.projectId, projectId))
    .get();
  return row === undefined || row.compliance === 1;
}
