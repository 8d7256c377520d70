/**
 * Fault injection for tests: wraps the ingestion path's bindings so R2, D1 and the index shard fail,
 * slow down or hang on demand, and the consumer can crash between its commit and its acknowledgement.
 * Active only when the `WINKY_FAULTS` binding is "on" — set by the test configuration, absent from
 * wrangler.toml and every deployed environment — and driven by a plan that only code in the same
 * isolate (a test) can set.
 */
import type { DeadlineKind } from "./deadline";

export type Fault = {
  /** How many calls fail (or hang) before calls succeed again; a hang without it hangs every call. */
  failTimes?: number;
  /** The error message thrown (default names the fault). */
  message?: string;
  /** Delay every call this long before it runs. */
  delayMs?: number;
  /** Calls never settle (until the plan is reset). */
  hang?: boolean;
};

export type FaultPlan = {
  r2Get?: Fault;
  r2Put?: Fault;
  d1Batch?: Fault;
  /** The shard's indexFiles: with `partial`, half the files are written before the failure (a reset mid-call). */
  shardIndex?: Fault & { partial?: boolean };
  /** The consumer throws after committing a batch, before acknowledging it. */
  crashAfterCommit?: Fault;
  /** Shorter deadlines, so a hang is noticed within a test's time. */
  deadlines?: Partial<Record<DeadlineKind, number>>;
};

let plan: FaultPlan = {};
const used = new Map<keyof FaultPlan, number>();
const hung: (() => void)[] = [];

export function setFaultPlan(next: FaultPlan): void {
  plan = next;
  used.clear();
}

/** Clears the plan and releases hung calls (they then fail). */
export function resetFaults(): void {
  setFaultPlan({});
  for (const release of hung.splice(0)) release();
}

export function faultsEnabled(env: Env): boolean {
  return env.WINKY_FAULTS === "on";
}

export function faultDeadlines(): FaultPlan["deadlines"] {
  return plan.deadlines;
}

/** Applies the planned fault of `key`, if any, before a call runs. */
export async function inject(key: Exclude<keyof FaultPlan, "deadlines">): Promise<void> {
  const f = plan[key];
  if (!f) return;
  if (f.delayMs) await new Promise((r) => setTimeout(r, f.delayMs));
  const n = used.get(key) ?? 0;
  if (f.hang && n < (f.failTimes ?? Number.POSITIVE_INFINITY)) {
    used.set(key, n + 1);
    await new Promise<void>((release) => hung.push(release));
    throw new Error(`injected hang of ${key} released`);
  }
  if (!f.hang && n < (f.failTimes ?? 0)) {
    used.set(key, n + 1);
    throw new Error(f.message ?? `injected fault: ${key}`);
  }
}

/** Whether `key` is planned to fail on its next call (without consuming it). */
export function willFail(key: Exclude<keyof FaultPlan, "deadlines">): boolean {
  const f = plan[key];
  return f !== undefined && (used.get(key) ?? 0) < (f.failTimes ?? 0);
}

/** An R2 bucket whose get and put go through the plan. */
export function faultyBucket(bucket: R2Bucket): R2Bucket {
  return new Proxy(bucket, {
    get(target, prop, receiver) {
      if (prop === "get")
        return async (...args: Parameters<R2Bucket["get"]>) => {
          await inject("r2Get");
          return target.get(...args);
        };
      if (prop === "put")
        return async (...args: Parameters<R2Bucket["put"]>) => {
          await inject("r2Put");
          return target.put(...args);
        };
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A D1 database whose batches go through the plan (e.g. `SQLITE_BUSY`). */
export function faultyD1(d1: D1Database): D1Database {
  return new Proxy(d1, {
    get(target, prop, receiver) {
      if (prop === "batch")
        return async (...args: Parameters<D1Database["batch"]>) => {
          await inject("d1Batch");
          return target.batch(...args);
        };
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

type IndexStub = { indexFiles(input: { files: unknown[] }): Promise<unknown> };

/**
 * A shard namespace whose indexFiles goes through the plan; with `partial`, the first half of the files
 * is really indexed before the call fails, as when the object is reset in the middle of it.
 */
export function faultyShards<N>(ns: N): N {
  const real = ns as unknown as { getByName(name: string): IndexStub };
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== "getByName") return Reflect.get(target, prop, receiver);
      return (name: string) => {
        const stub = target.getByName(name);
        return new Proxy(stub, {
          get(s, p, r) {
            if (p !== "indexFiles") return Reflect.get(s, p, r);
            return async (input: { files: unknown[] }) => {
              if (plan.shardIndex?.partial && willFail("shardIndex"))
                await s.indexFiles({ ...input, files: input.files.slice(0, Math.ceil(input.files.length / 2)) });
              await inject("shardIndex");
              return s.indexFiles(input);
            };
          },
        });
      };
    },
  }) as unknown as N;
}
