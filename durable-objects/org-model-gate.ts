/**
 * One per organisation: the org's concurrency cap on model calls, as leases (`src/lib/model/lease-table.ts`).
 * This host owns the storage and its versioned schema. Sharded by org: no object sees more than one org's calls.
 */
import { DurableObject } from "cloudflare:workers";
import { type Acquired, GATE_MIGRATIONS, LeaseTable, unversionedGateVersion } from "../src/lib/model/lease-table";
import { migrate } from "../src/lib/storage/do-migrations";

export class OrgModelGate extends DurableObject<Env> {
  private readonly leases: LeaseTable;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, GATE_MIGRATIONS, unversionedGateVersion);
    this.leases = new LeaseTable(ctx.storage.sql);
  }

  acquire(leaseId: string, limit: number, ttlMs: number): Acquired {
    return this.leases.acquire(leaseId, limit, ttlMs);
  }

  renew(leaseId: string, ttlMs: number): boolean {
    return this.leases.renew(leaseId, ttlMs);
  }

  release(leaseId: string): void {
    this.leases.release(leaseId);
  }
}
