import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/lib/errors";
import type { GenerationEvent } from "../../src/lib/model/generation-types";
import type { GeneratePrototype, GenerationResponse } from "../../src/lib/model/run-generation";
import {
  Activity,
  addCall,
  alarmDecision,
  answerClientMessage,
  CLIENT_MESSAGES,
  ConversationMemory,
  CostMeter,
  checkCanGenerate,
  EMPTY_METER,
  EventLog,
  insertSessionRecord,
  KEPT_HOT_PATHS,
  KEPT_MESSAGES,
  migrateSession,
  promptConversation,
  publish,
  readSessionMeta,
  replay,
  requireOwner,
  resumePoint,
  SESSION_IDLE_MS,
  SESSION_MIGRATIONS,
  SESSION_SCHEMA_VERSION,
  streamGeneration,
  TokenBatcher,
} from "../../src/lib/session";
import { type MigratableStorage, migrate, schemaVersion } from "../../src/lib/storage/do-migrations";

/** Runs `fn` against the storage of a fresh Durable Object (a session object nobody created). */
const inStorage = <T>(fn: (storage: DurableObjectStorage) => T | Promise<T>): Promise<T> =>
  runInDurableObject(env.SESSION.getByName(`ses_test_${crypto.randomUUID()}`), (_instance, state) => fn(state.storage));

const tables = (sql: SqlStorage): string[] =>
  sql
    .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .toArray()
    .map((r) => r.name);
const columns = (sql: SqlStorage, table: string): string[] =>
  sql
    .exec<{ name: string }>(`PRAGMA table_info(${table})`)
    .toArray()
    .map((c) => c.name);
const meta = { sessionId: "ses_x", projectId: "prj_x", orgId: "org_a", createdAt: "2026-01-01T00:00:00.000Z" };

describe("session schema", () => {
  it("numbers its migrations 1, 2, … and creates every table of a new session at the current version", async () => {
    expect(SESSION_MIGRATIONS.map((m) => m.version)).toEqual(Array.from({ length: SESSION_SCHEMA_VERSION }, (_, i) => i + 1));
    await inStorage((storage) => {
      expect(schemaVersion(storage.sql)).toBe(0);
      expect(migrateSession(storage)).toBe(SESSION_SCHEMA_VERSION);
      expect(schemaVersion(storage.sql)).toBe(SESSION_SCHEMA_VERSION);
      expect(tables(storage.sql)).toEqual(["hot_paths", "messages", "schema_version", "session"]);
      expect(columns(storage.sql, "session")).toEqual(["id", "data", "meter", "active_at"]);
      // Running again changes nothing.
      expect(migrateSession(storage)).toBe(SESSION_SCHEMA_VERSION);
    });
  });

  it("upgrades in place a session stored before versioning, with or without its activity column", async () => {
    await inStorage((storage) => {
      // The first layout, as the code before `active_at` wrote it.
      SESSION_MIGRATIONS[0]?.up(storage.sql);
      storage.sql.exec("INSERT INTO session (id, data, meter) VALUES (1, ?, ?)", JSON.stringify(meta), JSON.stringify(EMPTY_METER));
      expect(migrateSession(storage)).toBe(2);
      expect(storage.sql.exec("SELECT active_at FROM session").one()).toEqual({ active_at: 0 });
      expect(readSessionMeta(storage.sql)).toEqual(meta);
    });
    await inStorage((storage) => {
      // The layout the hand-written upgrade produced: placed at version 2, so its ALTER is not run twice.
      for (const m of SESSION_MIGRATIONS) m.up(storage.sql);
      expect(migrateSession(storage)).toBe(2);
      expect(schemaVersion(storage.sql)).toBe(2);
    });
  });

  it("applies each migration in its own transaction: one that fails leaves the version before it", async () => {
    await inStorage((storage: MigratableStorage) => {
      const broken = [
        { version: 1, description: "ok", up: (sql: SqlStorage) => void sql.exec("CREATE TABLE a (x)") },
        {
          version: 2,
          description: "fails halfway",
          up: (sql: SqlStorage) => {
            sql.exec("CREATE TABLE b (x)");
            sql.exec("NOT SQL");
          },
        },
      ];
      expect(() => migrate(storage, broken)).toThrow();
      expect(schemaVersion(storage.sql)).toBe(1);
      expect(tables(storage.sql)).toEqual(["a", "schema_version"]);
    });
  });

  it("refuses a migration list out of order before running any of it", async () => {
    await inStorage((storage) => {
      const up = (sql: SqlStorage) => void sql.exec("CREATE TABLE c (x)");
      expect(() => migrate(storage, [{ version: 2, description: "", up }])).toThrow("migration 0 has version 2; versions must run 1, 2, 3… in order");
      expect(tables(storage.sql)).toEqual([]);
    });
  });
});

describe("ownership", () => {
  it("reads no record from an object never created, and writes nothing doing so", async () => {
    await inStorage((storage) => {
      expect(readSessionMeta(storage.sql)).toBeUndefined();
      expect(tables(storage.sql)).toEqual([]);
    });
  });

  it("answers another org's session, or one of a project the key may not touch, exactly like a missing one", async () => {
    expect(requireOwner(meta, { orgId: "org_a", projectIds: null })).toBe(meta);
    expect(requireOwner(meta, { orgId: "org_a", projectIds: [meta.projectId] })).toBe(meta);
    for (const [m, access] of [
      [meta, { orgId: "org_b", projectIds: null }],
      [undefined, { orgId: "org_a", projectIds: null }],
      [meta, { orgId: "org_a", projectIds: ["prj_other"] }],
      [meta, undefined],
    ] as const) {
      const e = (() => {
        try {
          requireOwner(m, access);
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(AppError);
      expect(e).toMatchObject({ status: 404, code: "session_not_found", message: "no such session" });
    }
  });
});

describe("cost meter", () => {
  it("adds each call, keeping cost to a millionth of a dollar", () => {
    const once = addCall(EMPTY_METER, { inputTokens: 10, outputTokens: 2, costUsd: 0.1 });
    expect(addCall(once, { inputTokens: 5, outputTokens: 1, costUsd: 0.2 })).toEqual({ calls: 2, inputTokens: 15, outputTokens: 3, costUsd: 0.3 });
    expect(addCall(EMPTY_METER, { inputTokens: 0, outputTokens: 0, costUsd: 0.0000004 }).costUsd).toBe(0);
  });

  it("keeps the meter in the session record", async () => {
    await inStorage((storage) => {
      migrateSession(storage);
      insertSessionRecord(storage.sql, meta, EMPTY_METER, 1);
      new CostMeter(storage.sql).add({ inputTokens: 7, outputTokens: 3, costUsd: 0.5 });
      expect(new CostMeter(storage.sql).read()).toEqual({ calls: 1, inputTokens: 7, outputTokens: 3, costUsd: 0.5 });
    });
  });
});

describe("conversation memory", () => {
  it("gives a prompt the newest messages within a tenth of its budget, each cut to 4,000 characters", () => {
    const msgs = [
      { role: "user", content: "a".repeat(100) },
      { role: "assistant", content: "b".repeat(5000) },
      { role: "user", content: "c".repeat(10) },
    ];
    expect(promptConversation(msgs, 1000)).toEqual([{ role: "user", content: "c".repeat(10) }]);
    const all = promptConversation(msgs, 100_000);
    expect(all.map((m) => m.content.length)).toEqual([100, 4000 + " […]".length, 10]);
    expect(promptConversation([], 100_000)).toEqual([]);
  });

  it("keeps the last 50 messages, each cut to 20,000 characters, and the 50 most recent hot paths", async () => {
    await inStorage((storage) => {
      migrateSession(storage);
      const memory = new ConversationMemory(storage.sql);
      memory.remember([{ role: "user", content: "x".repeat(30_000) }], ["first.ts"], 1);
      const many = Array.from({ length: KEPT_MESSAGES + 5 }, (_, i) => ({ role: "user", content: `m${i}` }));
      memory.remember(
        many,
        Array.from({ length: KEPT_HOT_PATHS + 5 }, (_, i) => `p${i}.ts`),
        2,
      );
      memory.remember([], ["latest.ts"], 3);
      const kept = memory.messages();
      expect(kept).toHaveLength(KEPT_MESSAGES);
      expect(kept.at(-1)?.content).toBe(`m${KEPT_MESSAGES + 4}`);
      expect(memory.hotPaths()).toHaveLength(KEPT_HOT_PATHS);
      expect(memory.hotPaths()[0]).toBe("latest.ts");
      expect(memory.hotPaths()).not.toContain("first.ts");

      memory.remember([{ role: "user", content: "y".repeat(30_000) }], [], 4);
      expect(memory.messages(1)[0]?.content.length).toBe(20_000 + " […]".length);
    });
  });
});

describe("token batcher", () => {
  it("sends text in batches by size and age, and at once when the pass changes", () => {
    let now = 0;
    const sent: { pass: string; text: string }[] = [];
    const b = new TokenBatcher(
      (x) => sent.push(x),
      { chars: 10, ms: 100 },
      () => now,
    );
    b.push("plan", "12345");
    b.push("plan", "678");
    expect(sent).toEqual([]);
    b.push("plan", "90");
    expect(sent).toEqual([{ pass: "plan", text: "1234567890" }]);
    b.push("plan", "a");
    b.push("expand", "b");
    expect(sent.at(-1)).toEqual({ pass: "plan", text: "a" });
    now = 100;
    b.push("expand", "c");
    expect(sent.at(-1)).toEqual({ pass: "expand", text: "bc" });
    b.flush();
    expect(sent).toHaveLength(3);
  });
});

describe("idle expiry", () => {
  const ttlMs = 2 * 60 * 60 * 1000;

  it("expires a session idle past a week with nothing in flight", () => {
    expect(alarmDecision({ now: SESSION_IDLE_MS + 2, activeAt: 1, inFlight: 0, ttlMs })).toEqual({ expire: true });
    expect(alarmDecision({ now: SESSION_IDLE_MS + 2, activeAt: 1, inFlight: 1, ttlMs }).expire).toBe(false);
  });

  it("runs next after the hot window's TTL, a second past idleness at the latest, a minute apart at least", () => {
    expect(alarmDecision({ now: 0, activeAt: 0, inFlight: 0, ttlMs })).toEqual({ expire: false, nextAlarmAt: ttlMs });
    expect(alarmDecision({ now: SESSION_IDLE_MS - 10, activeAt: 0, inFlight: 0, ttlMs })).toEqual({
      expire: false,
      nextAlarmAt: SESSION_IDLE_MS - 10 + 60_000,
    });
    const now = SESSION_IDLE_MS - ttlMs / 2;
    expect(alarmDecision({ now, activeAt: 0, inFlight: 0, ttlMs })).toEqual({ expire: false, nextAlarmAt: SESSION_IDLE_MS + 1000 });
  });
});

describe("activity", () => {
  it("counts a request in flight until it settles, and marks the session active before and after", async () => {
    await inStorage(async (storage) => {
      migrateSession(storage);
      insertSessionRecord(storage.sql, meta, EMPTY_METER, 1);
      const activity = new Activity(storage.sql);
      expect(activity.activeAt()).toBe(1);
      let seen = -1;
      await activity.busy(async () => {
        seen = activity.inFlight;
      });
      expect(seen).toBe(1);
      expect(activity.inFlight).toBe(0);
      await expect(activity.busy(async () => Promise.reject(new Error("failed")))).rejects.toThrow("failed");
      expect(activity.inFlight).toBe(0);
      expect(activity.activeAt()).toBeGreaterThan(1);
    });
  });
});

describe("replay", () => {
  it("publishes an event to the log and every socket; a socket that fails to send does not stop the others", async () => {
    await inStorage((storage) => {
      const log = new EventLog(storage.sql);
      const got: string[] = [];
      const sockets = [{ send: assertNever }, { send: (f: string) => got.push(f) }] as unknown as WebSocket[];
      publish(log, sockets, "context", { tokenTotal: 1 });
      expect(JSON.parse(got[0] ?? "")).toMatchObject({ seq: 1, type: "context", data: { tokenTotal: 1 } });
      expect(log.last()).toBe(1);
    });
  });

  it("sends the events after a number, then `replayed`; past its size a `more` frame says where to resume", async () => {
    await inStorage((storage) => {
      const log = new EventLog(storage.sql);
      for (let i = 0; i < 3; i++) log.append(i === 1 ? "started" : "tokens", { text: "x".repeat(100) });
      const frames: string[] = [];
      replay(log, (f) => frames.push(f), 0, true);
      expect(frames.map((f) => (JSON.parse(f) as { type: string }).type)).toEqual(["tokens", "started", "tokens", "replayed"]);
      expect(JSON.parse(frames.at(-1) ?? "")).toEqual({ type: "replayed", lastEventSeq: 3, running: true });

      const bounded: string[] = [];
      replay(log, (f) => bounded.push(f), 0, false, 400);
      expect(bounded.map((f) => (JSON.parse(f) as { seq?: number }).seq)).toEqual([1, 2, undefined]);
      expect(JSON.parse(bounded.at(-1) ?? "")).toEqual({ type: "more", after: 2, lastEventSeq: 3 });

      expect(resumePoint(null, log)).toBe(1);
      expect(resumePoint("2", log)).toBe(2);
      expect(resumePoint("x", log)).toBe(1);
    });
  });

  it("says which events are gone before replaying what is left", () => {
    const log = { first: () => 5, last: () => 6, lastOf: () => 0, pages: function* () {} };
    const frames: string[] = [];
    replay(log, (f) => frames.push(f), 1, false);
    expect(frames.map((f) => JSON.parse(f))).toEqual([
      { type: "gap", from: 2, to: 4 },
      { type: "replayed", lastEventSeq: 6, running: false },
    ]);
  });

  it("answers `ping` and `resume`, and anything else with the protocol's description", () => {
    const log = { first: () => 0, last: () => 7, lastOf: () => 0, pages: function* () {} };
    const frames: unknown[] = [];
    const send = (f: string) => frames.push(JSON.parse(f));
    answerClientMessage(log, send, '{"type":"ping"}', false);
    answerClientMessage(log, send, new TextEncoder().encode('{"type":"resume","after":3}').buffer as ArrayBuffer, false);
    answerClientMessage(log, send, '{"type":"resume","after":-1}', false);
    answerClientMessage(log, send, "not json", false);
    expect(frames).toEqual([
      { type: "pong", lastEventSeq: 7 },
      { type: "replayed", lastEventSeq: 7, running: false },
      { type: "invalid", error: { code: "invalid_message", message: CLIENT_MESSAGES } },
      { type: "invalid", error: { code: "invalid_message", message: CLIENT_MESSAGES } },
    ]);
  });
});

function assertNever(): never {
  throw new Error("socket closing");
}

describe("streamGeneration", () => {
  it("refuses a run for another project (400) or while one runs (409)", () => {
    expect(() => checkCanGenerate(meta, { projectId: "prj_other" }, false)).toThrow(expect.objectContaining({ status: 400, code: "session_project_mismatch" }));
    expect(() => checkCanGenerate(meta, { projectId: meta.projectId }, true)).toThrow(expect.objectContaining({ status: 409, code: "session_busy" }));
    expect(() => checkCanGenerate(meta, { projectId: meta.projectId }, false)).not.toThrow();
  });

  const body = { prompt: "add mul", dryRun: false, hotPaths: ["a.js"] } as GeneratePrototype;
  const call: Extract<GenerationEvent, { type: "call" }> = {
    type: "call",
    pass: "plan",
    inputTokens: 3,
    outputTokens: 1,
    longContext: false,
    costUsd: 0.1,
    promptSha256: "s",
    chunks: [],
    at: "t",
  };

  it("publishes the run's events in order with tokens batched, meters calls, and remembers the turn", async () => {
    const published: [string, unknown][] = [];
    const metered: unknown[] = [];
    const remembered: unknown[] = [];
    const result = { plan: { summary: "mul added", steps: [] }, diffs: [{ path: "calc.js", content: "" }] } as unknown as GenerationResponse;
    const out = await streamGeneration(
      {
        publish: (type, data) => published.push([type, data]),
        meter: (c) => metered.push(c),
        remember: (messages, paths) => remembered.push({ messages, paths }),
        run: async (emit) => {
          emit({ type: "tokens", pass: "plan", text: "a" });
          emit({ type: "tokens", pass: "plan", text: "b" });
          emit(call);
          return result;
        },
      },
      body,
    );
    expect(out).toBe(result);
    expect(published.map(([t]) => t)).toEqual(["started", "tokens", "call", "result"]);
    expect(published[1]?.[1]).toEqual({ pass: "plan", text: "ab" });
    expect(metered).toEqual([call]);
    expect(remembered).toEqual([
      {
        messages: [
          { role: "user", content: "add mul" },
          { role: "assistant", content: "mul added (changed: calc.js)" },
        ],
        paths: ["a.js", "calc.js"],
      },
    ]);
  });

  it("ends a failed run with an `error` event (internal for unknown errors) and rethrows it", async () => {
    const published: [string, unknown][] = [];
    const deps = (error: unknown) => ({
      publish: (type: string, data: unknown) => published.push([type, data]),
      meter: () => undefined,
      remember: () => undefined,
      run: async (emit: (e: { type: "tokens"; pass: string; text: string }) => void) => {
        emit({ type: "tokens", pass: "plan", text: "partial" });
        throw error;
      },
    });
    await expect(streamGeneration(deps(new AppError(502, "model_invalid_output", "bad")), body)).rejects.toMatchObject({ code: "model_invalid_output" });
    await expect(streamGeneration(deps(new Error("secret detail")), body)).rejects.toThrow("secret detail");
    expect(published.filter(([t]) => t !== "started")).toEqual([
      ["tokens", { pass: "plan", text: "partial" }],
      ["error", { error: { code: "model_invalid_output", message: "bad" } }],
      ["tokens", { pass: "plan", text: "partial" }],
      ["error", { error: { code: "internal", message: "internal error" } }],
    ]);
  });
});
