/**
 * The audit log: who (org, actor, key) did what (the route, the ids acted on), when, under which request,
 * and how it ended. Append-only: rows are written here and deleted only by the org's retention; never
 * content (no bodies, prompts, file text or secrets).
 */
import { and, desc, eq, gte, lte } from "drizzle-orm";
import { z } from "zod";
import { newId } from "../crypto/hash";
import { type Db, tables } from "../storage";
import { afterCursor, decodePageCursor, encodePageCursor } from "../storage/page-cursor";

export type AuditActor = "key" | "operator" | "webhook";

export type AuditEntry = {
  orgId: string;
  actor: AuditActor;
  keyId: string | null;
  action: string;
  projectId: string | null;
  targets: Record<string, string>;
  requestId: string;
  status: number;
};

const outcomeOf = (status: number): "ok" | "refused" | "failed" => (status >= 500 ? "failed" : status >= 400 ? "refused" : "ok");

// Ids are short; anything longer is cut so a row stays small whatever a request named.
const MAX_TARGET_CHARS = 200;

export async function recordAudit(db: Db, e: AuditEntry, now = Date.now()): Promise<void> {
  const targets = Object.fromEntries(Object.entries(e.targets).map(([k, v]) => [k.slice(0, 64), v.slice(0, MAX_TARGET_CHARS)]));
  await db.insert(tables.auditLog).values({
    auditId: newId("aud"),
    orgId: e.orgId,
    actor: e.actor,
    keyId: e.keyId,
    action: e.action.slice(0, 200),
    projectId: e.projectId?.slice(0, 64) ?? null,
    targets: JSON.stringify(targets),
    requestId: e.requestId.slice(0, 128),
    status: e.status,
    outcome: outcomeOf(e.status),
    at: now,
  });
}

export const AuditQuery = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    action: z.string().max(200).optional(),
    keyId: z.string().max(64).optional(),
    projectId: z.string().max(64).optional(),
    outcome: z.enum(["ok", "refused", "failed"]).optional(),
    cursor: z.string().max(512).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();
export type AuditQuery = z.infer<typeof AuditQuery>;

/** An audit row as `GET /api/audit` shows it. */
export type AuditView = Awaited<ReturnType<typeof listAudit>>["entries"][number];

/** One page of the org's audit log, newest first, filtered. */
export async function listAudit(db: Db, orgId: string, q: AuditQuery) {
  const a = tables.auditLog;
  const after = q.cursor ? decodePageCursor(q.cursor) : undefined;
  const rows = await db
    .select()
    .from(a)
    .where(
      and(
        eq(a.orgId, orgId),
        q.from ? gte(a.at, Date.parse(q.from)) : undefined,
        q.to ? lte(a.at, Date.parse(q.to)) : undefined,
        q.action ? eq(a.action, q.action) : undefined,
        q.keyId ? eq(a.keyId, q.keyId) : undefined,
        q.projectId ? eq(a.projectId, q.projectId) : undefined,
        q.outcome ? eq(a.outcome, q.outcome) : undefined,
        afterCursor(a.at, a.auditId, after),
      ),
    )
    .orderBy(desc(a.at), desc(a.auditId))
    .limit(q.limit + 1)
    .all();
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    entries: page.map((r) => ({
      auditId: r.auditId,
      at: new Date(r.at).toISOString(),
      actor: r.actor,
      keyId: r.keyId,
      action: r.action,
      projectId: r.projectId,
      targets: JSON.parse(r.targets) as Record<string, string>,
      requestId: r.requestId,
      status: r.status,
      outcome: r.outcome,
    })),
    nextCursor: rows.length > q.limit && last ? encodePageCursor({ at: last.at, id: last.auditId }) : null,
  };
}
