/**
 * Retention of rows that age per org: retired chunks, audit rows (context_sessions and the audit log), sandbox runs with
 * their R2 objects, idle sessions. One run takes one page of orgs (by org id, from a cursor) and at most a
 * bounded number of rows per table among them; a page whose rows did not all fit is taken again next run.
 */
import { eq, gt, inArray, sql } from "drizzle-orm";
import { dropSnapshotIfUnused } from "../sandbox/snapshot";
import { type Db, tables } from "../storage";
import { readCursor, writeCursor } from "./cursors";
import { DAY_MS, RETENTION_DEFAULTS } from "./policy";

export type ExpireDeps = {
  db: Db;
  bucket: R2Bucket;
  /** Deletes a Session object with everything it stored (the entry point wires Session.wipe). */
  wipeSession?: (sessionId: string, orgId: string) => Promise<void>;
};

export type ExpireOptions = {
  now: number;
  /** Rows removed per table per run. */
  limit?: number;
  /** Sandbox runs removed per run: each costs an R2 list and a delete besides its row. */
  runLimit?: number;
  /** Orgs per page. */
  orgsPerRun?: number;
  /** Only this org (tests; an operator's targeted sweep): no cursor is read or kept. */
  orgId?: string;
};

export type ExpireReport = {
  orgs: number;
  retiredChunks: number;
  auditRows: number;
  /** Rows of the audit log (who did what). */
  auditLog: number;
  sandboxRuns: number;
  sandboxObjects: number;
  sessions: number;
  done: boolean;
};

export const ROWS_PER_RUN = 500;
export const SANDBOX_RUNS_PER_RUN = 50;
export const ORGS_PER_RUN = 200;
const CURSOR = "retention:orgs";

type Page = { first: string; last: string };

async function orgPage(db: Db, opts: ExpireOptions): Promise<{ page: Page | null; size: number; full: boolean }> {
  if (opts.orgId) return { page: { first: opts.orgId, last: opts.orgId }, size: 1, full: false };
  const per = opts.orgsPerRun ?? ORGS_PER_RUN;
  const cursor = await readCursor(db, CURSOR);
  const rows = await db
    .select({ orgId: tables.orgs.orgId })
    .from(tables.orgs)
    .where(cursor ? gt(tables.orgs.orgId, cursor) : undefined)
    .orderBy(tables.orgs.orgId)
    .limit(per)
    .all();
  const first = rows[0]?.orgId;
  const last = rows.at(-1)?.orgId;
  return { page: first && last ? { first, last } : null, size: rows.length, full: rows.length === per };
}

/**
 * The page's orgs with the cutoff (ms) of `column` of org_settings: rows older than it have expired.
 * Orgs without settings get the default.
 */
function cutoffs(page: Page, now: number, column: "audit_retention_days" | "sandbox_run_retention_days" | "session_retention_days") {
  const fallback = {
    audit_retention_days: RETENTION_DEFAULTS.auditRetentionDays,
    sandbox_run_retention_days: RETENTION_DEFAULTS.sandboxRunRetentionDays,
    session_retention_days: RETENTION_DEFAULTS.sessionRetentionDays,
  }[column];
  return sql`select o.org_id as org_id, ${now} - coalesce(s.${sql.raw(column)}, ${fallback}) * ${DAY_MS} as before
    from ${tables.orgs} o left join ${tables.orgSettings} s on s.org_id = o.org_id
    where o.org_id >= ${page.first} and o.org_id <= ${page.last}`;
}

/** Deletes expired retired chunks of the page's orgs; their R2 objects become garbage for collectGarbage. */
async function expireRetiredChunks(db: Db, page: Page, now: number, limit: number): Promise<number> {
  const res = await db.run(sql`with cut as (${cutoffs(page, now, "audit_retention_days")})
    delete from ${tables.retiredChunks} where chunk_id in (
      select r.chunk_id from cut join ${tables.projects} p on p.org_id = cut.org_id
      join ${tables.retiredChunks} r on r.project_id = p.project_id and r.retired_at < cut.before
      limit ${limit})`);
  return res.meta.changes;
}

/** Deletes expired audit rows (context_sessions) of the page's orgs. */
async function expireAuditRows(db: Db, page: Page, now: number, limit: number): Promise<number> {
  const res = await db.run(sql`with cut as (${cutoffs(page, now, "audit_retention_days")})
    delete from ${tables.contextSessions} where session_id in (
      select c.session_id from cut join ${tables.projects} p on p.org_id = cut.org_id
      join ${tables.contextSessions} c on c.project_id = p.project_id and c.created_at < cut.before
      limit ${limit})`);
  return res.meta.changes;
}

/** Deletes expired rows of the audit log (audit_log) of the page's orgs. */
async function expireAuditLog(db: Db, page: Page, now: number, limit: number): Promise<number> {
  const res = await db.run(sql`with cut as (${cutoffs(page, now, "audit_retention_days")})
    delete from ${tables.auditLog} where audit_id in (
      select a.audit_id from cut join ${tables.auditLog} a on a.org_id = cut.org_id and a.at < cut.before
      limit ${limit})`);
  return res.meta.changes;
}

/** Deletes expired sandbox runs: their R2 objects (input, results, artifacts) first, then the rows. */
async function expireSandboxRuns(db: Db, bucket: R2Bucket, page: Page, now: number, limit: number): Promise<{ runs: number; objects: number }> {
  const runs = await db.all<{
    run_id: string;
    project_id: string;
    snapshot_id: string | null;
  }>(sql`with cut as (${cutoffs(page, now, "sandbox_run_retention_days")})
    select r.run_id, r.project_id, r.snapshot_id from cut join ${tables.projects} p on p.org_id = cut.org_id
    join ${tables.sandboxRuns} r on r.project_id = p.project_id and r.created_at < cut.before
    limit ${limit}`);
  let objects = 0;
  for (const run of runs) {
    // The same layout as runKey(): sandbox/<project>/<run>/<name>.
    const prefix = `sandbox/${run.project_id}/${run.run_id}/`;
    let cursor: string | undefined;
    do {
      const listed = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
      if (listed.objects.length) await bucket.delete(listed.objects.map((o) => o.key));
      objects += listed.objects.length;
      cursor = listed.truncated ? listed.cursor : undefined;
    } while (cursor);
  }
  // The rows go last: a run interrupted above is found again next time, its objects still listed.
  if (runs.length) {
    await db.delete(tables.sandboxRuns).where(
      inArray(
        tables.sandboxRuns.runId,
        runs.map((r) => r.run_id),
      ),
    );
    // A snapshot goes with the last run that reads it (a replay may still); then GC may take its chunk objects.
    for (const id of new Set(runs.flatMap((r) => (r.snapshot_id ? [r.snapshot_id] : [])))) await dropSnapshotIfUnused(db, id);
  }
  return { runs: runs.length, objects };
}

/**
 * Removes sessions idle past the org's retention: the Session object is wiped through `wipeSession`
 * when given, then the registry row is deleted.
 */
async function expireSessions(deps: ExpireDeps, page: Page, now: number, limit: number): Promise<number> {
  const { db } = deps;
  const idle = await db.all<{ session_id: string; org_id: string }>(sql`with cut as (${cutoffs(page, now, "session_retention_days")})
    select s.session_id, s.org_id from cut join ${tables.sessions} s on s.org_id = cut.org_id and s.last_active_at < cut.before
    limit ${limit}`);
  for (const s of idle) {
    if (deps.wipeSession) await deps.wipeSession(s.session_id, s.org_id);
    await db.delete(tables.sessions).where(eq(tables.sessions.sessionId, s.session_id));
  }
  return idle.length;
}

/** One bounded retention pass over one page of orgs. */
export async function expireRows(deps: ExpireDeps, opts: ExpireOptions): Promise<ExpireReport> {
  const { db } = deps;
  const limit = opts.limit ?? ROWS_PER_RUN;
  const runLimit = opts.runLimit ?? SANDBOX_RUNS_PER_RUN;
  const { page, size, full } = await orgPage(db, opts);
  const report: ExpireReport = { orgs: size, retiredChunks: 0, auditRows: 0, auditLog: 0, sandboxRuns: 0, sandboxObjects: 0, sessions: 0, done: true };
  if (!page) {
    if (!opts.orgId) await writeCursor(db, CURSOR, null);
    return report;
  }
  report.retiredChunks = await expireRetiredChunks(db, page, opts.now, limit);
  report.auditRows = await expireAuditRows(db, page, opts.now, limit);
  report.auditLog = await expireAuditLog(db, page, opts.now, limit);
  const sandbox = await expireSandboxRuns(db, deps.bucket, page, opts.now, runLimit);
  report.sandboxRuns = sandbox.runs;
  report.sandboxObjects = sandbox.objects;
  report.sessions = await expireSessions(deps, page, opts.now, limit);

  // A table that filled its limit may hold more expired rows in this page: take the same page again.
  const again =
    report.retiredChunks >= limit || report.auditRows >= limit || report.auditLog >= limit || report.sandboxRuns >= runLimit || report.sessions >= limit;
  report.done = !again && !full;
  if (!opts.orgId && !again) await writeCursor(db, CURSOR, full ? page.last : null);
  return report;
}
