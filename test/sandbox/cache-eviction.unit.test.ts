import { describe, expect, it } from "vitest";
import { chooseEvictions, DEFAULT_CACHE_MAX_BYTES, type EntryInfo, parseCacheMaxBytes } from "../../src/lib/sandbox/runner/cache-eviction";

const MiB = 1024 * 1024;
const entry = (key: string, mib: number, lastUsedMs: number): EntryInfo => ({ key, bytes: mib * MiB, lastUsedMs });

describe("chooseEvictions", () => {
  it("evicts nothing while the cache fits its bound", () => {
    expect(chooseEvictions([entry("a", 3, 1), entry("b", 3, 2)], 6 * MiB, new Set())).toEqual([]);
  });

  it("evicts the least recently used entries first, only as many as it takes to fit", () => {
    const entries = [entry("new", 3, 40), entry("old", 3, 10), entry("recent", 3, 30), entry("older", 3, 20)];
    expect(chooseEvictions(entries, 7 * MiB, new Set())).toEqual(["old", "older"]);
    expect(chooseEvictions(entries, 9 * MiB, new Set())).toEqual(["old"]);
  });

  it("never evicts a pinned entry (one a run has mounted), taking the next least recently used instead", () => {
    const entries = [entry("mounted", 3, 10), entry("b", 3, 20), entry("c", 3, 30)];
    expect(chooseEvictions(entries, 6 * MiB, new Set(["mounted"]))).toEqual(["b"]);
  });

  it("keeps a new entry larger than the whole bound while it is pinned, evicting every other; it goes once unpinned", () => {
    const entries = [entry("a", 2, 10), entry("b", 2, 20), entry("huge", 12, 30)];
    expect(chooseEvictions(entries, 8 * MiB, new Set(["huge"]))).toEqual(["a", "b"]);
    expect(chooseEvictions([entry("huge", 12, 30)], 8 * MiB, new Set())).toEqual(["huge"]);
  });

  it("breaks a tie in last use by key, so the choice is the same every time", () => {
    expect(chooseEvictions([entry("b", 3, 5), entry("a", 3, 5)], 3 * MiB, new Set())).toEqual(["a"]);
  });
});

describe("parseCacheMaxBytes", () => {
  it("takes a whole number of bytes of at least 1 MiB, and the default when unset", () => {
    expect(parseCacheMaxBytes(undefined)).toBe(DEFAULT_CACHE_MAX_BYTES);
    expect(parseCacheMaxBytes("")).toBe(DEFAULT_CACHE_MAX_BYTES);
    expect(parseCacheMaxBytes("1073741824")).toBe(1024 * MiB);
    expect(DEFAULT_CACHE_MAX_BYTES).toBe(4 * 1024 * MiB);
  });

  it("refuses anything else at start, naming the setting", () => {
    for (const bad of ["abc", "-5", "1.5", "1000"]) expect(() => parseCacheMaxBytes(bad)).toThrow(/SANDBOX_CACHE_MAX_BYTES/);
  });
});
