/**
 * Quota checks, made before the work they guard (an assembly, a model call, a sandbox run, a new
 * project): at 100% of a quota the request is refused (402 `quota_exceeded`, or 429 for concurrent runs)
 * and nothing is done; from 80% the request goes on with a warning the route passes on (header
 * `x-winky-quota-warning`, and a `quota` event on a session's socket).
 */
import { and, count, eq, isNull, sql } from "drizzle-orm";
import { AppError } from "../errors";
import { type Db, type Read, read, readNow, tables, together } from "../storage";
import { limitsRead } from "./limits";
import { usageTotalsRead, utcDay } from "./meter";

export const WARN_AT = 0.8;

export type QuotaKind = "tokens" | "spend" | "sandbox" | "projects" | "storage";

type Measure = { name: string; used: number; limit: number; unit: string };

function judge(measures: Measure[]): string[] {
  const warnings: string[] = [];
  for (const m of measures) {
    if (m.used >= m.limit) {
      throw new AppError(
        402,
        "quota_exceeded",
        `the ${m.name} quota is used up: ${fmt(m.used)} of ${fmt(m.limit)} ${m.unit}; an admin can raise it (PUT /api/orgs/:id/limits)`,
      );
    }
    if (m.used >= WARN_AT * m.limit) warnings.push(`${m.name}: ${Math.floor((m.used / m.limit) * 100)}% of ${fmt(m.limit)} ${m.unit}`);
  }
  return warnings;
}

const fmt = (n: number): string => (Number.isInteger(n) ? n.toLocaleString("en-US") : n.toFixed(2));

/**
 * Throws when a quota of `kind` is used up; returns the warnings of quotas at 80% or more. The limits and
 * the usage they are held against go to D1 as one batch.
 */
export async function checkQuota(db: Db, orgId: string, kind: QuotaKind, opts: { projectId?: string; now?: number } = {}): Promise<string[]> {
  return readNow(db, quotaRead(db, orgId, kind, opts));
}

const nothing: Read<undefined> = { queries: [], meaning: () => undefined };

/** The quota check as a read to send with others (`readAtOnce`): it throws or warns once the rows are in. */
export function quotaRead(db: Db, orgId: string, kind: QuotaKind, opts: { projectId?: string; now?: number } = {}): Read<string[]> {
  const today = utcDay(opts.now ?? Date.now());
  const orgLimits = limitsRead(db, orgId);
  if (kind === "projects")
    return together([orgLimits, liveProjects(db, orgId)], ([l, projects]) =>
      judge([{ name: "projects", used: projects, limit: l.projects, unit: "projects" }]),
    );
  if (kind === "storage")
    return together([orgLimits, storedBytes(db, orgId)], ([l, bytes]) => judge([{ name: "stored bytes", used: bytes, limit: l.storedBytes, unit: "bytes" }]));
  // The project's own day is read whenever a project is named: whether its limit is set is known only with the limits.
  const reads = [
    orgLimits,
    usageTotalsRead(db, orgId, today, today),
    opts.projectId && kind !== "sandbox" ? usageTotalsRead(db, orgId, today, today, opts.projectId) : nothing,
    kind === "spend" ? usageTotalsRead(db, orgId, `${today.slice(0, 7)}-01`, today) : nothing,
    kind === "sandbox" ? runningSandboxes(db, orgId) : nothing,
  ] as const;
  return together(reads, ([limits, day, project, month, running]) => {
    if (kind === "tokens") {
      const measures: Measure[] = [{ name: "daily assembled tokens", used: day.tokensAssembled, limit: limits.tokensAssembledPerDay, unit: "tokens" }];
      const perProject = limits.perProject.tokensAssembledPerDay;
      if (project && perProject !== null)
        measures.push({ name: "project's daily assembled tokens", used: project.tokensAssembled, limit: perProject, unit: "tokens" });
      return judge(measures);
    }
    if (kind === "spend") {
      const measures: Measure[] = [
        { name: "daily model spend", used: day.costUsd, limit: limits.spendUsdPerDay, unit: "USD" },
        { name: "monthly model spend", used: month?.costUsd ?? 0, limit: limits.spendUsdPerMonth, unit: "USD" },
      ];
      const perProject = limits.perProject.spendUsdPerDay;
      if (project && perProject !== null) measures.push({ name: "project's daily model spend", used: project.costUsd, limit: perProject, unit: "USD" });
      return judge(measures);
    }
    if ((running ?? 0) >= limits.concurrentSandboxRuns) {
      throw new AppError(
        429,
        "sandbox_concurrency_limit",
        `the org already has ${running} sandbox runs going (its limit is ${limits.concurrentSandboxRuns}); try again when one ends`,
      );
    }
    return judge([{ name: "daily sandbox minutes", used: day.sandboxMs / 60_000, limit: limits.sandboxMinutesPerDay, unit: "minutes" }]);
  });
}

function liveProjects(db: Db, orgId: string): Read<number> {
  const p = tables.projects;
  const query = db
    .select({ n: count() })
    .from(p)
    .where(and(eq(p.orgId, orgId), isNull(p.deletedAt)));
  return read(query, ([row]) => row?.n ?? 0);
}

/** Bytes of the files the org's live projects hold: one sum over the org's projects' file rows. */
function storedBytes(db: Db, orgId: string): Read<number> {
  const f = tables.files;
  const p = tables.projects;
  const query = db
    .select({ n: sql<number>`coalesce(sum(${f.sizeBytes}), 0)` })
    .from(f)
    .innerJoin(p, eq(p.projectId, f.projectId))
    .where(and(eq(p.orgId, orgId), isNull(p.deletedAt)));
  return read(query, ([row]) => row?.n ?? 0);
}

function runningSandboxes(db: Db, orgId: string): Read<number> {
  const r = tables.sandboxRuns;
  const query = db
    .select({ n: count() })
    .from(r)
    .where(and(eq(r.orgId, orgId), eq(r.status, "running")));
  return read(query, ([row]) => row?.n ?? 0);
}
