/**
 * The leases of one org's running model calls, in its `OrgModelGate` object's SQLite. A lease expires on
 * its own, so a crashed caller cannot hold a slot for ever.
 */
import { type Migration, tableExists } from "../storage/do-migrations";

export const GATE_MIGRATIONS: readonly Migration[] = [
  { version: 1, description: "leases", up: (sql) => sql.exec("CREATE TABLE leases (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)") },
];

/** A gate stored before versioning has its leases table: version 1. */
export const unversionedGateVersion = (sql: SqlStorage): number => (tableExists(sql, "leases") ? 1 : 0);

export type Acquired = { granted: true } | { granted: false; held: number; nextExpiryMs: number };

export class LeaseTable {
  constructor(private readonly sql: SqlStorage) {}

  /** Takes a slot if fewer than `limit` unexpired leases are held; otherwise says when the next one expires. */
  acquire(leaseId: string, limit: number, ttlMs: number, now = Date.now()): Acquired {
    this.sql.exec("DELETE FROM leases WHERE expires_at <= ?", now);
    const held = this.sql.exec<{ n: number; next: number | null }>("SELECT count(*) AS n, min(expires_at) AS next FROM leases").one();
    if (held.n >= limit) return { granted: false, held: held.n, nextExpiryMs: (held.next ?? now) - now };
    this.sql.exec("INSERT OR REPLACE INTO leases (id, expires_at) VALUES (?, ?)", leaseId, now + ttlMs);
    return { granted: true };
  }

  /** Extends a held lease; false if it already expired (its slot may have gone to another call). */
  renew(leaseId: string, ttlMs: number, now = Date.now()): boolean {
    return this.sql.exec("UPDATE leases SET expires_at = ? WHERE id = ? AND expires_at > ?", now + ttlMs, leaseId, now).rowsWritten > 0;
  }

  release(leaseId: string): void {
    this.sql.exec("DELETE FROM leases WHERE id = ?", leaseId);
  }
}
