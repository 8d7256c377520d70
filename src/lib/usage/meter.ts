/**
 * Metering: what each request used, added to the org's row for the day, project, key and model; the
 * totals quotas read (today, this month), and the usage report.
 */
import { and, eq, gte, lte, sql } from "drizzle-orm";
import { z } from "zod";
import { type Db, type Read, read, readNow, tables } from "../storage";

export type Use = {
  orgId: string;
  projectId?: string | null | undefined;
  keyId?: string | null | undefined;
  model?: string | null | undefined;
  /** What the use was for when the request's own work is not it: model-written summaries, a rerank. */
  kind?: UseKind | undefined;
  tokensAssembled?: number;
  costUsd?: number;
  sandboxMs?: number;
  requests?: number;
};

/** Uses metered apart from the request that caused them ("" is the request's own use). */
export const USE_KINDS = ["summary", "rerank"] as const;
export type UseKind = (typeof USE_KINDS)[number];

export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export async function recordUsage(db: Db, u: Use, now = Date.now()): Promise<void> {
  const u2 = tables.usageDaily;
  const add = {
    tokensAssembled: Math.max(0, Math.round(u.tokensAssembled ?? 0)),
    costMicroUsd: Math.max(0, Math.round((u.costUsd ?? 0) * 1e6)),
    sandboxMs: Math.max(0, Math.round(u.sandboxMs ?? 0)),
    requests: Math.max(0, Math.round(u.requests ?? 0)),
  };
  await db
    .insert(u2)
    .values({ orgId: u.orgId, day: utcDay(now), projectId: u.projectId ?? "", keyId: u.keyId ?? "", model: u.model ?? "", kind: u.kind ?? "", ...add })
    .onConflictDoUpdate({
      target: [u2.orgId, u2.day, u2.projectId, u2.keyId, u2.model, u2.kind],
      set: {
        tokensAssembled: sql`${u2.tokensAssembled} + ${add.tokensAssembled}`,
        costMicroUsd: sql`${u2.costMicroUsd} + ${add.costMicroUsd}`,
        sandboxMs: sql`${u2.sandboxMs} + ${add.sandboxMs}`,
        requests: sql`${u2.requests} + ${add.requests}`,
      },
    });
}

export type Totals = { tokensAssembled: number; costUsd: number; sandboxMs: number };

/** The org's (or one project's; or one kind's) totals from `fromDay` to `toDay` inclusive. */
export async function usageTotals(db: Db, orgId: string, fromDay: string, toDay: string, projectId?: string, kind?: UseKind): Promise<Totals> {
  return readNow(db, usageTotalsRead(db, orgId, fromDay, toDay, projectId, kind));
}

/** The totals as a read to send with others (`readAtOnce`). */
export function usageTotalsRead(db: Db, orgId: string, fromDay: string, toDay: string, projectId?: string, kind?: UseKind): Read<Totals> {
  const u = tables.usageDaily;
  const query = db
    .select({
      tokens: sql<number>`coalesce(sum(${u.tokensAssembled}), 0)`,
      cost: sql<number>`coalesce(sum(${u.costMicroUsd}), 0)`,
      sandbox: sql<number>`coalesce(sum(${u.sandboxMs}), 0)`,
    })
    .from(u)
    .where(
      and(eq(u.orgId, orgId), gte(u.day, fromDay), lte(u.day, toDay), projectId ? eq(u.projectId, projectId) : undefined, kind ? eq(u.kind, kind) : undefined),
    );
  return read(query, ([row]) => ({ tokensAssembled: row?.tokens ?? 0, costUsd: (row?.cost ?? 0) / 1e6, sandboxMs: row?.sandbox ?? 0 }));
}

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "YYYY-MM-DD");
export const UsageQuery = z
  .object({ from: Day.optional(), to: Day.optional(), projectId: z.string().max(64).optional() })
  .strict()
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: "from must not be after to" });
export type UsageQuery = z.infer<typeof UsageQuery>;

// A report covers at most a year of days.
const MAX_DAYS = 366;

/** The days a report covers: the 30 days to today by default, never more than MAX_DAYS from `from`. */
export function reportRange(q: { from?: string | undefined; to?: string | undefined }, now = Date.now()): { from: string; to: string } {
  const to = q.to ?? utcDay(now);
  const from = q.from ?? utcDay(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000);
  const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
  return { from, to: span > MAX_DAYS ? utcDay(Date.parse(`${from}T00:00:00Z`) + (MAX_DAYS - 1) * 86_400_000) : to };
}

/** The usage report: totals by day, project, model and key (rows of the org only; 30 days by default). */
export async function usageReport(db: Db, orgId: string, q: UsageQuery, now = Date.now()) {
  const { from, to: last } = reportRange(q, now);
  const u = tables.usageDaily;
  const rows = await db
    .select()
    .from(u)
    .where(and(eq(u.orgId, orgId), gte(u.day, from), lte(u.day, last), q.projectId ? eq(u.projectId, q.projectId) : undefined))
    .orderBy(u.day, u.projectId, u.model, u.kind, u.keyId)
    .all();
  const view = (r: (typeof rows)[number]) => ({
    day: r.day,
    projectId: r.projectId || null,
    model: r.model || null,
    kind: r.kind || null,
    keyId: r.keyId || null,
    tokensAssembled: r.tokensAssembled,
    costUsd: r.costMicroUsd / 1e6,
    sandboxMinutes: Math.round((r.sandboxMs / 60_000) * 100) / 100,
    requests: r.requests,
  });
  const all = rows.map(view);
  const sum = (k: "tokensAssembled" | "costUsd" | "sandboxMinutes" | "requests") => Math.round(all.reduce((n, r) => n + r[k], 0) * 1e6) / 1e6;
  return {
    from,
    to: last,
    totals: { tokensAssembled: sum("tokensAssembled"), costUsd: sum("costUsd"), sandboxMinutes: sum("sandboxMinutes"), requests: sum("requests") },
    rows: all,
  };
}
