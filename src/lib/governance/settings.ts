/** An org's governance settings: context budget limit, allowed models, generation default, compliance mode, install scripts. */
import { eq } from "drizzle-orm";
import { z } from "zod";
import { type Db, tables } from "../storage";

/** The largest budget the API takes at all; an org or project limit can only lower it. */
export const API_MAX_CONTEXT_TOKENS = 1_000_000;
// Generation's smallest budget: a limit below it would leave no budget generation can run with.
export const MIN_CONTEXT_LIMIT = 16_000;
export const GENERATION_DEFAULTS = ["on", "off"] as const;
export type GenerationDefault = (typeof GENERATION_DEFAULTS)[number];

export type GovernanceSettings = {
  maxContextTokens: number | null;
  allowedModels: string[] | null;
  generationDefault: GenerationDefault;
  complianceMode: boolean;
  /** Whether sandbox installs may run package install scripts (off by default: they are arbitrary code with network). */
  allowInstallScripts: boolean;
};

/** A context-token limit as settings take it: null clears it. */
export const ContextLimit = z.number().int().min(MIN_CONTEXT_LIMIT).max(API_MAX_CONTEXT_TOKENS).nullable();

/** What PATCH takes of them; null restores a default (no limit, any model, "on", off). */
export const GovernancePatch = z.object({
  maxContextTokens: ContextLimit,
  allowedModels: z.array(z.string().trim().min(1).max(128)).min(1).max(50).nullable(),
  generationDefault: z.enum(GENERATION_DEFAULTS).nullable(),
  complianceMode: z.boolean().nullable(),
  allowInstallScripts: z.boolean().nullable(),
});
export type GovernancePatch = Partial<z.infer<typeof GovernancePatch>>;

const StoredModels = z.array(z.string());

export async function readGovernance(db: Db, orgId: string): Promise<GovernanceSettings> {
  const o = tables.orgSettings;
  const row = await db
    .select({
      max: o.maxContextTokens,
      models: o.allowedModels,
      generation: o.generationDefault,
      compliance: o.complianceMode,
      scripts: o.allowInstallScripts,
    })
    .from(o)
    .where(eq(o.orgId, orgId))
    .get();
  const models = row?.models ? StoredModels.safeParse(JSON.parse(row.models)) : undefined;
  return {
    maxContextTokens: row?.max ?? null,
    allowedModels: models?.success ? models.data : null,
    generationDefault: row?.generation === "off" ? "off" : "on",
    complianceMode: row?.compliance === 1,
    allowInstallScripts: row?.scripts === 1,
  };
}

/** Writes the fields given; a field left out keeps its value. */
export async function updateGovernance(db: Db, orgId: string, patch: GovernancePatch): Promise<void> {
  const set: Partial<typeof tables.orgSettings.$inferInsert> = { updatedAt: Date.now() };
  if (patch.maxContextTokens !== undefined) set.maxContextTokens = patch.maxContextTokens;
  if (patch.allowedModels !== undefined) set.allowedModels = patch.allowedModels === null ? null : JSON.stringify([...new Set(patch.allowedModels)]);
  if (patch.generationDefault !== undefined) set.generationDefault = patch.generationDefault;
  if (patch.complianceMode !== undefined) set.complianceMode = patch.complianceMode ? 1 : 0;
  if (patch.allowInstallScripts !== undefined) set.allowInstallScripts = patch.allowInstallScripts ? 1 : 0;
  await db
    .insert(tables.orgSettings)
    .values({ orgId, ...set })
    .onConflictDoUpdate({ target: tables.orgSettings.orgId, set });
}
