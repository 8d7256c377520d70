import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { GATE_MIGRATIONS, LeaseTable, unversionedGateVersion } from "../../src/lib/model/lease-table";
import { migrate, schemaVersion } from "../../src/lib/storage/do-migrations";

/** Runs `fn` against the storage of a fresh Durable Object whose constructor writes nothing. */
const inStorage = <T>(fn: (storage: DurableObjectStorage) => T | Promise<T>): Promise<T> =>
  runInDurableObject(env.SESSION.getByName(`ses_test_${crypto.randomUUID()}`), (_instance, state) => fn(state.storage));

describe("LeaseTable", () => {
  it("grants up to the limit, then says how many are held and when the next one expires", async () => {
    await inStorage((storage) => {
      migrate(storage, GATE_MIGRATIONS, unversionedGateVersion);
      const leases = new LeaseTable(storage.sql);
      expect(leases.acquire("a", 2, 1000, 0)).toEqual({ granted: true });
      expect(leases.acquire("b", 2, 1000, 100)).toEqual({ granted: true });
      expect(leases.acquire("c", 2, 1000, 200)).toEqual({ granted: false, held: 2, nextExpiryMs: 800 });
      // Expired leases free their slots; a released one frees it at once.
      expect(leases.acquire("c", 2, 1000, 1000)).toEqual({ granted: true });
      leases.release("b");
      expect(leases.acquire("d", 2, 1000, 1000)).toEqual({ granted: true });
    });
  });

  it("renews only a lease that has not expired", async () => {
    await inStorage((storage) => {
      migrate(storage, GATE_MIGRATIONS, unversionedGateVersion);
      const leases = new LeaseTable(storage.sql);
      leases.acquire("a", 1, 1000, 0);
      expect(leases.renew("a", 1000, 500)).toBe(true);
      expect(leases.renew("a", 1000, 1500)).toBe(false);
      expect(leases.renew("unknown", 1000, 0)).toBe(false);
    });
  });

  it("keeps the leases of a gate stored before its schema was versioned", async () => {
    await inStorage((storage) => {
      storage.sql.exec("CREATE TABLE IF NOT EXISTS leases (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
      storage.sql.exec("INSERT INTO leases (id, expires_at) VALUES ('held', 5000)");
      expect(migrate(storage, GATE_MIGRATIONS, unversionedGateVersion)).toBe(1);
      expect(schemaVersion(storage.sql)).toBe(1);
      expect(new LeaseTable(storage.sql).acquire("new", 1, 1000, 0)).toEqual({ granted: false, held: 1, nextExpiryMs: 5000 });
    });
  });
});
