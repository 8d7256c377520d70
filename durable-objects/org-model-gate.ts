/**
 * One per organisation: the org's concurrency cap on model calls. A call holds a lease while it runs;
 * leases expire on their own so a crashed caller cannot hold a slot for ever. Sharded by org: no object
 * sees more than one org's calls.
 */
import { DurableObject } from "cloudflare:workers";

export class OrgModelGate extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS leases (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
  }

  /** Takes a slot if fewer than `limit` unexpired leases are held; otherwise says when the next one expires. */
  acquire(leaseId: string, limit: number, ttlMs: number): { granted: true } | { granted: false; held: number; nextExpiryMs: number } {
    const now = Date.now();
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM leases WHERE expires_at <= ?", now);
    const held = sql.exec<{ n: number; next: number | null }>("SELECT count(*) AS n, min(expires_at) AS next FROM leases").one();
    if (held.n >= limit) return { granted: false, held: held.n, nextExpiryMs: (held.next ?? now) - now };
    sql.exec("INSERT OR REPLACE INTO leases (id, expires_at) VALUES (?, ?)", leaseId, now + ttlMs);
    return { granted: true };
  }

  /** Extends a held lease; false if it already expired (its slot may have gone to another call). */
  renew(leaseId: string, ttlMs: number): boolean {
    return (
      this.ctx.storage.sql.exec("UPDATE leases SET expires_at = ? WHERE id = ? AND expires_at > ?", Date.now() + ttlMs, leaseId, Date.now()).rowsWritten > 0
    );
  }

  release(leaseId: string): void {
    this.ctx.storage.sql.exec("DELETE FROM leases WHERE id = ?", leaseId);
  }
}
