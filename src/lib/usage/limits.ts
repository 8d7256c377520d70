/**
 * An org's quotas. Defaults hold until an admin sets a value (`PUT /api/orgs/:id/limits`); null restores
 * the default. Every quota is per org; `tokensAssembledPerDay` and `spendUsdPerDay` can also be capped
 * per project (`perProject`).
 */
import { eq } from "drizzle-orm";
import { z } from "zod";
import { type Db, type Read, read, readNow, tables } from "../storage";

export const LIMIT_DEFAULTS = {
  /** Context tokens assembled per UTC day (assemblies, session assemblies and generation passes). */
  tokensAssembledPerDay: 200_000_000,
  /** Model spend in USD per UTC day and per calendar month. */
  spendUsdPerDay: 100,
  spendUsdPerMonth: 1_000,
  /** Sandbox run time per UTC day, in minutes, and runs at once. */
  sandboxMinutesPerDay: 600,
  concurrentSandboxRuns: 4,
  /** Live projects. */
  projects: 1_000,
  /** Bytes of the files the org's live projects hold (as uploaded or fetched), checked before each upload. */
  storedBytes: 50 * 1024 ** 3,
} as const;

/** An org may lower the platform's requests per minute per key (it cannot raise it); null keeps the platform's. */
export const RATE_LIMIT_KEY = "requestsPerMinutePerKey";

export type OrgLimits = { -readonly [K in keyof typeof LIMIT_DEFAULTS]: number } & {
  requestsPerMinutePerKey: number | null;
  perProject: { tokensAssembledPerDay: number | null; spendUsdPerDay: number | null };
};

const Count = z.number().int().min(0).max(1e12).nullable();
const Usd = z.number().min(0).max(1e9).nullable();

export const LimitsPatch = z
  .object({
    tokensAssembledPerDay: Count,
    spendUsdPerDay: Usd,
    spendUsdPerMonth: Usd,
    sandboxMinutesPerDay: Count,
    concurrentSandboxRuns: z.number().int().min(0).max(1000).nullable(),
    projects: Count,
    storedBytes: Count,
    requestsPerMinutePerKey: z.number().int().min(1).max(100_000).nullable(),
    perProject: z.object({ tokensAssembledPerDay: Count, spendUsdPerDay: Usd }).partial().strict(),
  })
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: "give at least one limit" });
export type LimitsPatch = z.infer<typeof LimitsPatch>;

const Stored = z.looseObject({}).transform((o) => o as Partial<Record<string, unknown>>);

export async function readLimits(db: Db, orgId: string): Promise<OrgLimits> {
  return readNow(db, limitsRead(db, orgId));
}

/** The org's limits as a read to send with others (`readAtOnce`). */
export function limitsRead(db: Db, orgId: string): Read<OrgLimits> {
  return read(db.select().from(tables.orgLimits).where(eq(tables.orgLimits.orgId, orgId)), ([row]) => limitsOf(row));
}

function limitsOf(row: typeof tables.orgLimits.$inferSelect | undefined): OrgLimits {
  const stored = row ? Stored.parse(JSON.parse(row.limits)) : {};
  const num = (k: keyof typeof LIMIT_DEFAULTS): number => (typeof stored[k] === "number" ? (stored[k] as number) : LIMIT_DEFAULTS[k]);
  const per = (stored.perProject ?? {}) as Record<string, unknown>;
  const perNum = (k: string): number | null => (typeof per[k] === "number" ? (per[k] as number) : null);
  return {
    tokensAssembledPerDay: num("tokensAssembledPerDay"),
    spendUsdPerDay: num("spendUsdPerDay"),
    spendUsdPerMonth: num("spendUsdPerMonth"),
    sandboxMinutesPerDay: num("sandboxMinutesPerDay"),
    concurrentSandboxRuns: num("concurrentSandboxRuns"),
    projects: num("projects"),
    storedBytes: num("storedBytes"),
    requestsPerMinutePerKey: typeof stored[RATE_LIMIT_KEY] === "number" ? (stored[RATE_LIMIT_KEY] as number) : null,
    perProject: { tokensAssembledPerDay: perNum("tokensAssembledPerDay"), spendUsdPerDay: perNum("spendUsdPerDay") },
  };
}

/** Applies a patch: a value sets the limit, null restores its default, a field left out keeps its value. */
export async function updateLimits(db: Db, orgId: string, patch: LimitsPatch): Promise<void> {
  const row = await db.select().from(tables.orgLimits).where(eq(tables.orgLimits.orgId, orgId)).get();
  const stored: Record<string, unknown> = row ? Stored.parse(JSON.parse(row.limits)) : {};
  const { perProject, ...top } = patch;
  for (const [k, v] of Object.entries(top)) {
    if (v === null) delete stored[k];
    else stored[k] = v;
  }
  if (perProject) {
    const per = { ...((stored.perProject ?? {}) as Record<string, unknown>) };
    for (const [k, v] of Object.entries(perProject)) {
      if (v === null) delete per[k];
      else per[k] = v;
    }
    stored.perProject = per;
  }
  rpmCache.delete(orgId);
  const limits = JSON.stringify(stored);
  await db
    .insert(tables.orgLimits)
    .values({ orgId, limits, updatedAt: Date.now() })
    .onConflictDoUpdate({ target: tables.orgLimits.orgId, set: { limits, updatedAt: Date.now() } });
}

// An org's requests-per-minute limit is read on every request: kept a minute per isolate (a change made
// through this isolate applies at once, through another within the minute).
const RPM_CACHE_MS = 60_000;
const rpmCache = new Map<string, { value: number | null; until: number }>();

export async function orgRequestsPerMinute(db: Db, orgId: string, now = Date.now()): Promise<number | null> {
  const hit = rpmCache.get(orgId);
  if (hit && hit.until > now) return hit.value;
  const value = (await readLimits(db, orgId)).requestsPerMinutePerKey;
  if (rpmCache.size > 10_000) rpmCache.clear();
  rpmCache.set(orgId, { value, until: now + RPM_CACHE_MS });
  return value;
}
