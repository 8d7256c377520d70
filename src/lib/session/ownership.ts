/** A session's record (who owns it) and the rule that another org's session is answered like a missing one. */
import { AppError } from "../errors";
import { tableExists } from "../storage/do-migrations";

export type SessionMeta = { sessionId: string; projectId: string; orgId: string; createdAt: string };

/** The session's record, or undefined when the object was never created (nothing is written then). */
export function readSessionMeta(sql: SqlStorage): SessionMeta | undefined {
  if (!tableExists(sql, "session")) return undefined;
  const row = sql.exec<{ data: string }>("SELECT data FROM session WHERE id = 1").toArray()[0];
  return row ? (JSON.parse(row.data) as SessionMeta) : undefined;
}

/** The record when `orgId` owns it; otherwise 404 `session_not_found`, the same as for no session at all. */
export function requireOwner(meta: SessionMeta | undefined, orgId: string | null | undefined): SessionMeta {
  if (!meta || meta.orgId !== orgId) throw new AppError(404, "session_not_found", "no such session");
  return meta;
}

/** Writes the record of a new session; a second create keeps the first record. */
export function insertSessionRecord(sql: SqlStorage, meta: SessionMeta, meter: unknown, now: number): void {
  sql.exec("INSERT OR IGNORE INTO session (id, data, meter, active_at) VALUES (1, ?, ?, ?)", JSON.stringify(meta), JSON.stringify(meter), now);
}
