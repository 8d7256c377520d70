/**
 * A session's record (who owns it) and the rule that another org's session, or one of a project the
 * caller's key may not touch, is answered like a missing one.
 */
import { type Access, mayTouch } from "../auth/access";
import { AppError } from "../errors";
import { tableExists } from "../storage/do-migrations";

export type SessionMeta = { sessionId: string; projectId: string; orgId: string; createdAt: string };

/** The session's record, or undefined when the object was never created (nothing is written then). */
export function readSessionMeta(sql: SqlStorage): SessionMeta | undefined {
  if (!tableExists(sql, "session")) return undefined;
  const row = sql.exec<{ data: string }>("SELECT data FROM session WHERE id = 1").toArray()[0];
  return row ? (JSON.parse(row.data) as SessionMeta) : undefined;
}

/** The record when the caller may touch it; otherwise 404 `session_not_found`, the same as for no session at all. */
export function requireOwner(meta: SessionMeta | undefined, access: Access | undefined): SessionMeta {
  if (!meta || !access || meta.orgId !== access.orgId || !mayTouch(access, meta.projectId)) {
    throw new AppError(404, "session_not_found", "no such session");
  }
  return meta;
}

/** Access to exactly this session: for the object's own work (alarms, socket messages). */
export const ownerAccess = (meta: SessionMeta): Access => ({ orgId: meta.orgId, projectIds: [meta.projectId] });

/** Writes the record of a new session; a second create keeps the first record. */
export function insertSessionRecord(sql: SqlStorage, meta: SessionMeta, meter: unknown, now: number): void {
  sql.exec("INSERT OR IGNORE INTO session (id, data, meter, active_at) VALUES (1, ?, ?, ?)", JSON.stringify(meta), JSON.stringify(meter), now);
}
