/**
 * A session's hot window: the rendered blocks (chunks and summaries, keyed by `blockKey`) its recent
 * calls used, in the session object's SQLite so it survives eviction, mirrored in memory while the
 * object is awake. Least recently used first out past the byte bound; entries unused for the TTL expire.
 */
import type { PromptBlock } from "../assembly/prompt";

export const HOT_WINDOW_BYTES = 16 * 1024 * 1024;
export const HOT_WINDOW_TTL_MS = 2 * 60 * 60 * 1000;

type Entry = { text: string; bytes: number; usedAt: number };
const encoder = new TextEncoder();

export class HotWindow {
  private mem: Map<string, Entry> | undefined;
  private total = 0;

  constructor(
    private readonly sql: SqlStorage,
    readonly limits: { bytes: number; ttlMs: number } = { bytes: HOT_WINDOW_BYTES, ttlMs: HOT_WINDOW_TTL_MS },
  ) {
    sql.exec("CREATE TABLE IF NOT EXISTS hot_window (key TEXT PRIMARY KEY, text TEXT NOT NULL, bytes INTEGER NOT NULL, used_at INTEGER NOT NULL)");
    sql.exec("CREATE INDEX IF NOT EXISTS hot_window_used ON hot_window (used_at)");
  }

  private entries(): Map<string, Entry> {
    if (!this.mem) {
      this.mem = new Map();
      this.total = 0;
      for (const r of this.sql.exec<{ key: string; text: string; bytes: number; used_at: number }>("SELECT key, text, bytes, used_at FROM hot_window")) {
        this.mem.set(r.key, { text: r.text, bytes: r.bytes, usedAt: r.used_at });
        this.total += r.bytes;
      }
    }
    return this.mem;
  }

  /** Keys of the blocks held and not expired: what the assembler may leave out of its answer. */
  keys(now = Date.now()): string[] {
    this.evict(now);
    return [...this.entries().keys()];
  }

  get(key: string): string | undefined {
    return this.entries().get(key)?.text;
  }

  /** The first characters of a held chunk block's text (after its source line), or `fallback`. */
  preview(key: string, fallback: string, chars = 200): string {
    const text = this.get(key);
    return text === undefined ? fallback : text.slice(text.indexOf("\n") + 1, text.indexOf("\n") + 1 + chars);
  }

  /**
   * Turns an assembler's blocks into the prompt text: a block without text is taken from the window.
   * Returns undefined when one is missing (it cannot be, unless it expired in between).
   */
  compose(blocks: PromptBlock[]): string | undefined {
    const parts: string[] = [];
    for (const b of blocks) {
      const text = b.text || (b.key ? this.get(b.key) : "");
      if (text === undefined) return undefined;
      parts.push(text);
    }
    return parts.join("");
  }

  /** Records the keyed blocks a call used: new ones stored, held ones touched; then the bounds applied. */
  use(blocks: PromptBlock[], now = Date.now()): { added: number; reused: number } {
    const mem = this.entries();
    let added = 0;
    const touched: string[] = [];
    for (const b of blocks) {
      if (!b.key) continue;
      const held = mem.get(b.key);
      if (held) {
        held.usedAt = now;
        touched.push(b.key);
      } else if (b.text) {
        const bytes = encoder.encode(b.text).length;
        if (bytes > this.limits.bytes) continue;
        mem.set(b.key, { text: b.text, bytes, usedAt: now });
        this.total += bytes;
        this.sql.exec("INSERT OR REPLACE INTO hot_window (key, text, bytes, used_at) VALUES (?, ?, ?, ?)", b.key, b.text, bytes, now);
        added++;
      }
    }
    if (touched.length) this.sql.exec("UPDATE hot_window SET used_at = ? WHERE key IN (SELECT value FROM json_each(?))", now, JSON.stringify(touched));
    this.evict(now);
    return { added, reused: touched.length };
  }

  /** Drops expired entries, then the least recently used until the window is within its byte bound. */
  evict(now = Date.now()): number {
    const mem = this.entries();
    const out: string[] = [];
    for (const [k, e] of mem) if (now - e.usedAt > this.limits.ttlMs) out.push(k);
    if (this.total - out.reduce((n, k) => n + (mem.get(k)?.bytes ?? 0), 0) > this.limits.bytes) {
      const live = [...mem].filter(([k]) => !out.includes(k)).sort((a, b) => a[1].usedAt - b[1].usedAt);
      let total = live.reduce((n, [, e]) => n + e.bytes, 0);
      for (const [k, e] of live) {
        if (total <= this.limits.bytes) break;
        out.push(k);
        total -= e.bytes;
      }
    }
    for (const k of out) {
      this.total -= mem.get(k)?.bytes ?? 0;
      mem.delete(k);
    }
    if (out.length) this.sql.exec("DELETE FROM hot_window WHERE key IN (SELECT value FROM json_each(?))", JSON.stringify(out));
    return out.length;
  }

  stats(): { entries: number; bytes: number; limitBytes: number; ttlMs: number } {
    const mem = this.entries();
    return { entries: mem.size, bytes: this.total, limitBytes: this.limits.bytes, ttlMs: this.limits.ttlMs };
  }
}
