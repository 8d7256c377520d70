import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { EventLog, MAX_EVENT_CHARS, MAX_EVENTS } from "../../src/lib/session/event-log";
import { HotWindow } from "../../src/lib/session/hot-window";

/** Runs `fn` against the SQLite storage of a fresh Durable Object (a session object nobody created). */
const inStorage = <T>(fn: (sql: SqlStorage) => T | Promise<T>): Promise<T> =>
  runInDurableObject(env.SESSION.getByName(`ses_test_${crypto.randomUUID()}`), (_instance, state) => fn(state.storage.sql));

const block = (key: string, chars: number) => ({ key, text: `---source: ${key}\n${"x".repeat(chars)}\n` });

describe("HotWindow", () => {
  it("keeps blocks within its byte bound, least recently used out first, and survives a new instance", async () => {
    await inStorage((sql) => {
      const w = new HotWindow(sql, { bytes: 1000, ttlMs: 60_000 });
      expect(w.use([block("a:1-2", 300), block("b:1-2", 300), block("c:1-2", 300)], 1000)).toEqual({ added: 3, reused: 0 });
      // Touch a, so b is the least recently used when d pushes the window over its bound.
      expect(w.use([{ key: "a:1-2", text: "" }], 2000)).toEqual({ added: 0, reused: 1 });
      w.use([block("d:1-2", 300)], 3000);
      expect(w.keys(3000).sort()).toEqual(["a:1-2", "c:1-2", "d:1-2"]);
      expect(w.stats().bytes).toBeLessThanOrEqual(1000);
      // A block larger than the whole window is not kept.
      expect(w.use([block("huge:1-2", 2000)], 3000).added).toBe(0);

      // What the object stored is what a new instance (after eviction from memory) sees.
      const again = new HotWindow(sql, { bytes: 1000, ttlMs: 60_000 });
      expect(again.keys(3000).sort()).toEqual(["a:1-2", "c:1-2", "d:1-2"]);
      expect(again.compose([{ text: "head\n" }, { key: "c:1-2", text: "" }])).toBe(`head\n${block("c:1-2", 300).text}`);
      expect(again.compose([{ key: "b:1-2", text: "" }])).toBeUndefined();
      expect(again.preview("c:1-2", "", 5)).toBe("xxxxx");
    });
  });

  it("expires blocks unused for its TTL", async () => {
    await inStorage((sql) => {
      const w = new HotWindow(sql, { bytes: 1_000_000, ttlMs: 1000 });
      w.use([block("old:1-2", 10)], 0);
      w.use([block("new:1-2", 10)], 900);
      expect(w.keys(1500)).toEqual(["new:1-2"]);
      expect(sql.exec<{ n: number }>("SELECT count(*) AS n FROM hot_window").one().n).toBe(1);
    });
  });
});

describe("EventLog", () => {
  it("numbers events, replays them in pages, keeps the newest and bounds each one's size", async () => {
    await inStorage((sql) => {
      const log = new EventLog(sql);
      for (let i = 0; i < MAX_EVENTS + 250; i++) log.append(i % 1000 === 0 ? "started" : "tokens", { i });
      expect(log.last()).toBe(MAX_EVENTS + 250);
      // Trimmed in steps of 100: the oldest kept is at most 100 events older than the newest MAX_EVENTS.
      expect(log.first()).toBeGreaterThan(200);
      expect(log.last() - log.first() + 1).toBeLessThanOrEqual(MAX_EVENTS + 100);
      expect(log.lastOf("started")).toBe(5001);
      const replayed = [...log.pages(log.last() - 700)].flat();
      expect(replayed.map((e) => e.seq)).toEqual(Array.from({ length: 700 }, (_, k) => log.last() - 699 + k));
      expect(JSON.parse(replayed[0]?.frame ?? "")).toMatchObject({ seq: log.last() - 699, type: "tokens", data: { i: MAX_EVENTS + 250 - 700 } });

      const pieces = Array.from({ length: 5000 }, (_, i) => ({ id: `chk_${i}`, path: `src/file${i}.ts`, lines: [1, 400], tokens: 7000 }));
      const big = log.append("context", { pass: "expand", pieces });
      const kept = big.data as { pass: string; pieces: unknown[]; piecesOmitted: number };
      expect(JSON.stringify(kept).length).toBeLessThanOrEqual(MAX_EVENT_CHARS);
      expect(kept.pass).toBe("expand");
      expect(kept.pieces.length + kept.piecesOmitted).toBe(5000);
      expect(kept.pieces[0]).toEqual(pieces[0]);
    });
  });
});
