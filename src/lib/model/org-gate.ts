/**
 * The per-org concurrency cap on model calls, as a gate the adapter runs each call through. A call
 * waits (polling with backoff) for a slot of the org's `OrgModelGate` object, up to `waitMs`, then is
 * refused with 429 `org_concurrency_limit`. A slot is a short lease renewed while the call runs, so a
 * caller that dies (a cancelled request) frees it within a minute; it is released when the call ends.
 */
import { newId } from "../crypto/hash";
import { AppError } from "../errors";
import type { ConcurrencyGate } from "./anthropic-adapter";
import type { Acquired } from "./lease-table";

export const DEFAULT_ORG_CONCURRENCY = 4;
const LEASE_MS = 60_000;
const RENEW_MS = 20_000;

export function orgConcurrency(raw: string | undefined): number {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_ORG_CONCURRENCY;
}

/** What the gate needs of the org's `OrgModelGate` objects (the `ORG_MODEL_GATE` namespace provides it). */
export type GateNamespace = {
  getByName(orgId: string): {
    acquire(leaseId: string, limit: number, ttlMs: number): Promise<Acquired>;
    renew(leaseId: string, ttlMs: number): Promise<boolean>;
    release(leaseId: string): Promise<void>;
  };
};

export function orgGate(ns: GateNamespace, orgId: string, limit: number, waitMs = 120_000): ConcurrencyGate {
  const gate = ns.getByName(orgId);
  return async (fn) => {
    const lease = newId("lease");
    const deadline = Date.now() + waitMs;
    for (let pause = 100; ; pause = Math.min(pause * 2, 2000)) {
      const r = await gate.acquire(lease, limit, LEASE_MS);
      if (r.granted) break;
      if (Date.now() + pause > deadline)
        throw new AppError(429, "org_concurrency_limit", `the organisation already has ${r.held} model calls running (limit ${limit}); try again shortly`);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    const renewal = setInterval(() => {
      gate.renew(lease, LEASE_MS).catch(() => undefined);
    }, RENEW_MS);
    try {
      return await fn();
    } finally {
      clearInterval(renewal);
      // A failed release must not replace the call's outcome: the lease then expires by itself.
      await gate.release(lease).catch(() => undefined);
    }
  };
}
