/**
 * The install cache's eviction policy, apart from the file system so it can be tested alone: the bound from
 * the configuration, and which entries go when the cache is over it (least recently used first, never one a
 * run has mounted).
 */
import { z } from "zod";

/** The cache's bound when the configuration names none: a few installs of large JavaScript or Python projects. */
export const DEFAULT_CACHE_MAX_BYTES = 4 * 1024 ** 3;

/** `SANDBOX_CACHE_MAX_BYTES`: a whole number of bytes, at least 1 MiB; unset means the default. */
export function parseCacheMaxBytes(value: string | undefined): number {
  if (value === undefined || value === "") return DEFAULT_CACHE_MAX_BYTES;
  const parsed = z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .safeParse(value);
  if (!parsed.success) throw new Error(`SANDBOX_CACHE_MAX_BYTES must be a whole number of bytes, at least 1 MiB (got ${JSON.stringify(value)})`);
  return parsed.data;
}

/** An entry as eviction sees it: its size on disk and when a run last used it. */
export type EntryInfo = { key: string; bytes: number; lastUsedMs: number };

/**
 * The entries to evict so that the rest fits in `maxBytes`: least recently used first (a tie goes by key, so
 * the choice is the same every time), never a pinned one. Pinned entries still count towards the total, so
 * when they alone exceed the bound every unpinned entry goes.
 */
export function chooseEvictions(entries: readonly EntryInfo[], maxBytes: number, pinned: ReadonlySet<string>): string[] {
  let total = entries.reduce((sum, e) => sum + e.bytes, 0);
  const chosen: string[] = [];
  const oldestFirst = entries.filter((e) => !pinned.has(e.key)).sort((a, b) => a.lastUsedMs - b.lastUsedMs || a.key.localeCompare(b.key));
  for (const e of oldestFirst) {
    if (total <= maxBytes) break;
    chosen.push(e.key);
    total -= e.bytes;
  }
  return chosen;
}
