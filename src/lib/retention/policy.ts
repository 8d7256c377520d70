/** Retention periods per org: the documented defaults, and the org's own settings over them. */
import { eq } from "drizzle-orm";
import { type Db, tables } from "../storage";

export const DAY_MS = 24 * 60 * 60 * 1000;

export type RetentionSettings = {
  /** Days audit rows (context_sessions) and retired chunks (with their R2 text) are kept. */
  auditRetentionDays: number;
  /** Days sandbox runs (rows, inputs, results, artifacts) are kept. */
  sandboxRunRetentionDays: number;
  /** Days a session may stay idle before it is removed. */
  sessionRetentionDays: number;
};

/**
 * Defaults when an org sets nothing. Audit: a quarter, long enough to trace a generation's sources back
 * through a release cycle. Sandbox runs: a month, their inputs are whole project snapshots. Sessions: a
 * week, the Session object's own idle expiry (SESSION_IDLE_MS), so the registry and the object agree.
 */
export const RETENTION_DEFAULTS: RetentionSettings = { auditRetentionDays: 90, sandboxRunRetentionDays: 30, sessionRetentionDays: 7 };

/** Bounds of a setting: at least a day, at most ten years. */
export const MIN_RETENTION_DAYS = 1;
export const MAX_RETENTION_DAYS = 3650;

export type StoredRetention = { [K in keyof RetentionSettings]: number | null };

/** What the org stored (null: the default applies) and what is in effect. */
export async function readRetention(db: Db, orgId: string): Promise<{ stored: StoredRetention; effective: RetentionSettings }> {
  const row = await db.select().from(tables.orgSettings).where(eq(tables.orgSettings.orgId, orgId)).get();
  const stored: StoredRetention = {
    auditRetentionDays: row?.auditRetentionDays ?? null,
    sandboxRunRetentionDays: row?.sandboxRunRetentionDays ?? null,
    sessionRetentionDays: row?.sessionRetentionDays ?? null,
  };
  return { stored, effective: effectiveRetention(stored) };
}

export function effectiveRetention(stored: Partial<StoredRetention>): RetentionSettings {
  return {
    auditRetentionDays: stored.auditRetentionDays ?? RETENTION_DEFAULTS.auditRetentionDays,
    sandboxRunRetentionDays: stored.sandboxRunRetentionDays ?? RETENTION_DEFAULTS.sandboxRunRetentionDays,
    sessionRetentionDays: stored.sessionRetentionDays ?? RETENTION_DEFAULTS.sessionRetentionDays,
  };
}

/** Sets the given fields (null restores the default); fields left out keep their value. */
export async function updateRetention(db: Db, orgId: string, patch: Partial<StoredRetention>): Promise<void> {
  const set = { ...patch, updatedAt: Date.now() };
  await db
    .insert(tables.orgSettings)
    .values({ orgId, ...set })
    .onConflictDoUpdate({ target: tables.orgSettings.orgId, set });
}
