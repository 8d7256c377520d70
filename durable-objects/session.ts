/**
 * One per session: the hot window (blocks its calls used, LRU + TTL, bounded in bytes), the last
 * messages of the conversation, hot paths, the token and cost meter, and the event log its WebSocket
 * clients follow (hibernation API: the object sleeps between events without dropping sockets).
 * Generation inside a session runs here, so its events are published as they happen. A session idle
 * for SESSION_IDLE_MS is deleted with everything it stored.
 */
import { DurableObject } from "cloudflare:workers";
import { type AssembleResult, pieceRefs } from "../src/lib/assembly/assemble";
import { AppError, caught, type ErrorResult, unwrap } from "../src/lib/errors";
import { configuredModel } from "../src/lib/model/anthropic-adapter";
import type { AssembleOptions, GenerationEvent } from "../src/lib/model/generate";
import { type GeneratePrototype, type GenerationResponse, runGeneration } from "../src/lib/model/run-generation";
import { getProject } from "../src/lib/projects/projects";
import { EventLog } from "../src/lib/session/event-log";
import { HotWindow } from "../src/lib/session/hot-window";
import { openDb } from "../src/lib/storage";
import { type Tokenizer, tokenizerFor } from "../src/lib/tokenizer";

export type SessionMeta = { sessionId: string; projectId: string; orgId: string; createdAt: string };
export type Meter = { calls: number; inputTokens: number; outputTokens: number; costUsd: number };
export type SessionInfo = SessionMeta & {
  meter: Meter;
  hotWindow: ReturnType<HotWindow["stats"]>;
  hotPaths: string[];
  messages: { role: string; content: string; at: string }[];
  lastEventSeq: number;
  running: boolean;
};
export type SessionAssembleRequest = { prompt: string; budget: number; hotPaths: string[]; tokenizer: Tokenizer; includeText: boolean };
export type SessionAssembleResult = AssembleResult & { hotWindow: { reused: number; added: number } };

// The spec's prompt carries the last 10 messages; they take at most a tenth of a call's budget (at
// about 3 characters a token, to err high), each cut to MESSAGE_PROMPT_CHARS, the oldest dropped first.
const PROMPT_MESSAGES = 10;
const MESSAGE_PROMPT_CHARS = 4000;
const MESSAGE_STORED_CHARS = 20_000;
const KEPT_MESSAGES = 50;
const KEPT_HOT_PATHS = 50;
// Model text is streamed in events of about this size or age, not one event per token.
const TOKEN_FLUSH_CHARS = 400;
const TOKEN_FLUSH_MS = 100;
export const SESSION_IDLE_MS = 7 * 24 * 60 * 60 * 1000;
const CLIENT_MESSAGES = "messages are JSON: {type: 'resume', after: seq} or {type: 'ping'}";
// Characters one replay sends before it stops with a `more` frame.
const REPLAY_CHARS = 16 * 1024 * 1024;

const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)} […]` : s);

export class Session extends DurableObject<Env> {
  private window: HotWindow | undefined;
  private eventLog: EventLog | undefined;
  private running = false;
  // Requests inside the object that await other objects: the idle alarm leaves the session alone meanwhile.
  private inFlight = 0;
  private schemaChecked = false;

  private get hot(): HotWindow {
    if (!this.window) throw new Error("session not opened");
    return this.window;
  }

  private get log(): EventLog {
    if (!this.eventLog) throw new Error("session not opened");
    return this.eventLog;
  }

  /** The session's record, or undefined when this object was never created (nothing is written then). */
  private meta(): SessionMeta | undefined {
    const sql = this.ctx.storage.sql;
    if (!sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'session'").toArray().length) return undefined;
    const row = sql.exec<{ data: string }>("SELECT data FROM session WHERE id = 1").toArray()[0];
    return row ? (JSON.parse(row.data) as SessionMeta) : undefined;
  }

  private open(orgId: string | null): SessionMeta {
    const meta = this.meta();
    if (meta && !this.schemaChecked) this.upgradeSchema();
    // Another org's session is answered like a missing one.
    if (!meta || meta.orgId !== orgId) throw new AppError(404, "session_not_found", "no such session");
    this.window ??= new HotWindow(this.ctx.storage.sql);
    this.eventLog ??= new EventLog(this.ctx.storage.sql);
    return meta;
  }

  /** Sessions created before `active_at` existed get the column (SQLite has no ADD COLUMN IF NOT EXISTS). */
  private upgradeSchema(): void {
    const sql = this.ctx.storage.sql;
    const columns = sql.exec<{ name: string }>("PRAGMA table_info(session)").toArray();
    if (!columns.some((c) => c.name === "active_at")) sql.exec("ALTER TABLE session ADD COLUMN active_at INTEGER NOT NULL DEFAULT 0");
    this.schemaChecked = true;
  }

  /** Marks the session active and counts the request in flight until `fn` settles. */
  private async busy<T>(fn: () => Promise<T>): Promise<T> {
    this.touch();
    this.inFlight++;
    try {
      return await fn();
    } finally {
      this.inFlight--;
      this.touch();
    }
  }

  async create(meta: SessionMeta): Promise<SessionInfo> {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS session (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL, meter TEXT NOT NULL, active_at INTEGER NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, role TEXT NOT NULL, content TEXT NOT NULL, at TEXT NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS hot_paths (path TEXT PRIMARY KEY, used_at INTEGER NOT NULL)");
    const meter: Meter = { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    sql.exec("INSERT OR IGNORE INTO session (id, data, meter, active_at) VALUES (1, ?, ?, ?)", JSON.stringify(meta), JSON.stringify(meter), Date.now());
    this.open(meta.orgId);
    await this.ctx.storage.setAlarm(Date.now() + this.hot.limits.ttlMs);
    return this.describe(meta);
  }

  async info(orgId: string): Promise<SessionInfo | ErrorResult> {
    return caught(async () => this.describe(this.open(orgId)));
  }

  private describe(meta: SessionMeta): SessionInfo {
    return {
      ...meta,
      meter: this.readMeter(),
      hotWindow: this.hot.stats(),
      hotPaths: this.hotPaths(),
      messages: this.messages(KEPT_MESSAGES),
      lastEventSeq: this.log.last(),
      running: this.running,
    };
  }

  private touch(): void {
    this.ctx.storage.sql.exec("UPDATE session SET active_at = ? WHERE id = 1", Date.now());
  }

  private hotPaths(): string[] {
    return this.ctx.storage.sql
      .exec<{ path: string }>("SELECT path FROM hot_paths ORDER BY used_at DESC LIMIT ?", KEPT_HOT_PATHS)
      .toArray()
      .map((r) => r.path);
  }

  private messages(n: number): { role: string; content: string; at: string }[] {
    return this.ctx.storage.sql
      .exec<{ role: string; content: string; at: string }>("SELECT role, content, at FROM messages ORDER BY seq DESC LIMIT ?", n)
      .toArray()
      .reverse();
  }

  /** The last messages for a prompt of `budget` tokens: newest kept first, within a tenth of the budget. */
  private conversation(budget: number): { role: string; content: string }[] {
    let room = Math.floor(budget * 0.1) * 3;
    const out: { role: string; content: string }[] = [];
    for (const m of this.messages(PROMPT_MESSAGES).reverse()) {
      const content = cut(m.content, MESSAGE_PROMPT_CHARS);
      if (content.length > room) break;
      room -= content.length;
      out.unshift({ role: m.role, content });
    }
    return out;
  }

  private remember(messages: { role: string; content: string }[], paths: string[]): void {
    const sql = this.ctx.storage.sql;
    const at = new Date().toISOString();
    for (const m of messages) sql.exec("INSERT INTO messages (role, content, at) VALUES (?, ?, ?)", m.role, cut(m.content, MESSAGE_STORED_CHARS), at);
    sql.exec("DELETE FROM messages WHERE seq <= (SELECT max(seq) FROM messages) - ?", KEPT_MESSAGES);
    const now = Date.now();
    for (const p of paths) sql.exec("INSERT OR REPLACE INTO hot_paths (path, used_at) VALUES (?, ?)", p, now);
    sql.exec("DELETE FROM hot_paths WHERE path NOT IN (SELECT path FROM hot_paths ORDER BY used_at DESC LIMIT ?)", KEPT_HOT_PATHS);
  }

  private readMeter(): Meter {
    return JSON.parse(this.ctx.storage.sql.exec<{ meter: string }>("SELECT meter FROM session WHERE id = 1").one().meter) as Meter;
  }

  /** Adds one model call to the meter, as soon as it is made (a run that fails later was still billed). */
  private meter(call: { inputTokens: number; outputTokens: number; costUsd: number }): void {
    const m = this.readMeter();
    const next: Meter = {
      calls: m.calls + 1,
      inputTokens: m.inputTokens + call.inputTokens,
      outputTokens: m.outputTokens + call.outputTokens,
      costUsd: Math.round((m.costUsd + call.costUsd) * 1e6) / 1e6,
    };
    this.ctx.storage.sql.exec("UPDATE session SET meter = ? WHERE id = 1", JSON.stringify(next));
  }

  private publish(type: string, data: unknown): void {
    const frame = JSON.stringify(this.log.append(type, data));
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(frame);
      } catch {
        // A socket that is closing misses this event live; it gets it on resume.
      }
    }
  }

  /**
   * Assembly through the hot window: the project's index leaves out the text of blocks the window holds,
   * the window fills them in, and the blocks used are recorded. The session's hot paths (unless the pass
   * asks for its own only) and its last messages join the request.
   */
  private assembler(meta: SessionMeta, tokenizer: Tokenizer) {
    const shard = this.env.PROJECT_INDEX.getByName(meta.projectId);
    const hot = this.hot;
    return async (query: string, budget: number, hotPaths: string[], opts: AssembleOptions = {}): Promise<SessionAssembleResult> => {
      const req = {
        prompt: query,
        budget,
        hotPaths: opts.exclusiveHotPaths ? hotPaths : [...new Set([...hotPaths, ...this.hotPaths()])],
        tokenizer,
        conversation: this.conversation(budget),
        includeText: true,
        ...(opts.instruction ? { instruction: opts.instruction } : {}),
      };
      let r = unwrap(await shard.assemble({ ...req, cachedKeys: hot.keys() }));
      let text = r.blocks ? hot.compose(r.blocks) : r.contextText;
      // A block that expired while the index was answering: ask again for every text.
      if (text === undefined) {
        r = unwrap(await shard.assemble({ ...req, cachedKeys: [] }));
        text = r.blocks ? hot.compose(r.blocks) : r.contextText;
      }
      const usage = hot.use(r.blocks ?? []);
      const { blocks: _blocks, ...rest } = r;
      // Chunks the index did not read have no preview: it comes from the window's copy.
      const contextPieces = rest.contextPieces.map((p) =>
        p.textPreview || p.kind !== "chunk" ? p : { ...p, textPreview: hot.preview(`${p.chunkId}:${p.startLine}-${p.endLine}`, p.textPreview) },
      );
      return { ...rest, contextPieces, contextText: text ?? "", hotWindow: usage };
    };
  }

  async assemble(orgId: string, req: SessionAssembleRequest): Promise<SessionAssembleResult | ErrorResult> {
    return caught(async () => {
      const meta = this.open(orgId);
      const result = await this.busy(() => this.assembler(meta, req.tokenizer)(req.prompt, req.budget, req.hotPaths));
      this.remember([], req.hotPaths);
      this.publish("context", {
        tokenTotal: result.tokenTotal,
        tokenBudget: result.tokenBudget,
        hotWindow: result.hotWindow,
        pieces: pieceRefs(result.contextPieces),
      });
      if (req.includeText) return result;
      const { contextText: _text, ...withoutText } = result;
      return { ...withoutText, hotWindow: result.hotWindow };
    });
  }

  /** A generation run inside the session: its events go to the log and the sockets as they happen. */
  async generate(orgId: string, body: GeneratePrototype): Promise<GenerationResponse | ErrorResult> {
    return caught(async () => {
      const meta = this.open(orgId);
      if (body.projectId !== meta.projectId)
        throw new AppError(400, "session_project_mismatch", `session ${meta.sessionId} belongs to project ${meta.projectId}`);
      if (this.running) throw new AppError(409, "session_busy", "a generation is already running in this session; follow it on the WebSocket");
      const db = openDb(this.env.DB);
      let pending: { pass: string; text: string; since: number } | undefined;
      const flush = (): void => {
        if (pending) this.publish("tokens", { pass: pending.pass, text: pending.text });
        pending = undefined;
      };
      const emit = (e: GenerationEvent): void => {
        if (e.type === "tokens") {
          if (pending && pending.pass !== e.pass) flush();
          pending ??= { pass: e.pass, text: "", since: Date.now() };
          pending.text += e.text;
          if (pending.text.length >= TOKEN_FLUSH_CHARS || Date.now() - pending.since >= TOKEN_FLUSH_MS) flush();
          return;
        }
        flush();
        if (e.type === "call") this.meter(e);
        const { type, ...data } = e;
        this.publish(type, data);
      };
      this.running = true;
      try {
        return await this.busy(async () => {
          this.publish("started", { prompt: body.prompt, dryRun: body.dryRun });
          const project = await getProject(db, meta.projectId, orgId);
          const result = await runGeneration(this.env, db, project, orgId, body, {
            assemble: this.assembler(meta, tokenizerFor(configuredModel(this.env))),
            emit,
            sessionId: meta.sessionId,
          });
          flush();
          if (!("dryRun" in result)) {
            const changed = result.diffs.flatMap((d) => ("path" in d && d.path ? [d.path] : []));
            this.remember(
              [
                { role: "user", content: body.prompt },
                { role: "assistant", content: `${result.plan.summary} (changed: ${changed.join(", ") || "a diff"})` },
              ],
              [...body.hotPaths, ...changed],
            );
          }
          this.publish("result", result);
          return result;
        });
      } catch (e) {
        flush();
        const err = e instanceof AppError ? e : new AppError(500, "internal", "the generation failed unexpectedly");
        this.publish("error", { code: err.code, message: err.message });
        throw e;
      } finally {
        this.running = false;
      }
    });
  }

  /**
   * The WebSocket upgrade, after the Worker checked the token and the session's org (passed as
   * `x-winky-org`). `?after=<seq>` replays the events after that number; without it, the latest run's.
   */
  async fetch(request: Request): Promise<Response> {
    try {
      this.open(request.headers.get("x-winky-org"));
    } catch (e) {
      if (e instanceof AppError) return Response.json(e.toJSON(), { status: e.status });
      throw e;
    }
    const param = new URL(request.url).searchParams.get("after");
    const after = param !== null && /^\d+$/.test(param) ? Number(param) : Math.max(0, this.log.lastOf("started") - 1);
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    this.replay(server, after);
    this.touch();
    const protocols = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
    return new Response(null, { status: 101, webSocket: client, headers: protocols.includes("winky") ? { "sec-websocket-protocol": "winky" } : {} });
  }

  /**
   * Sends the events after `after` as stored, oldest first, up to REPLAY_CHARS; past that a `more` frame
   * tells the client where to resume (the replay's memory stays bounded).
   */
  private replay(ws: WebSocket, after: number): void {
    const first = this.log.first();
    // Events older than the log keeps are gone: say so instead of pretending the stream is complete.
    if (first > after + 1) ws.send(JSON.stringify({ type: "gap", from: after + 1, to: first - 1 }));
    let sent = 0;
    for (const page of this.log.pages(after)) {
      for (const e of page) {
        if (sent + e.frame.length > REPLAY_CHARS && sent > 0) {
          ws.send(JSON.stringify({ type: "more", after: e.seq - 1, lastEventSeq: this.log.last() }));
          return;
        }
        ws.send(e.frame);
        sent += e.frame.length;
      }
    }
    ws.send(JSON.stringify({ type: "replayed", lastEventSeq: this.log.last(), running: this.running }));
  }

  /** Client messages: `{"type":"resume","after":N}` replays from N; `{"type":"ping"}` is answered. */
  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const meta = this.meta();
    if (!meta) return ws.close(1011, "session gone");
    this.open(meta.orgId);
    let msg: { type?: unknown; after?: unknown };
    try {
      msg = JSON.parse(typeof message === "string" ? message : new TextDecoder().decode(message)) as typeof msg;
    } catch {
      return ws.send(JSON.stringify({ type: "invalid", message: CLIENT_MESSAGES }));
    }
    if (msg.type === "resume" && typeof msg.after === "number" && Number.isInteger(msg.after) && msg.after >= 0) return this.replay(ws, msg.after);
    if (msg.type === "ping") return ws.send(JSON.stringify({ type: "pong", lastEventSeq: this.log.last() }));
    ws.send(JSON.stringify({ type: "invalid", message: CLIENT_MESSAGES }));
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }

  /**
   * Deletes the session with everything it stored: its sockets are closed, its alarm and storage deleted.
   * With `orgId`, another org's session is left alone and answered as missing; without it (a project
   * deletion) any session is wiped. Wiping a session that was never created changes nothing.
   */
  async wipe(orgId?: string): Promise<{ existed: boolean } | ErrorResult> {
    return caught(async () => {
      const meta = this.meta();
      if (meta && orgId !== undefined && meta.orgId !== orgId) throw new AppError(404, "session_not_found", "no such session");
      for (const ws of this.ctx.getWebSockets()) {
        try {
          ws.close(1000, "session deleted");
        } catch {
          // Already closing.
        }
      }
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      this.window = undefined;
      this.eventLog = undefined;
      this.schemaChecked = false;
      return { existed: meta !== undefined };
    });
  }

  /** Expires the hot window's stale entries; deletes the whole session once it has been idle too long. */
  async alarm(): Promise<void> {
    const meta = this.meta();
    if (!meta) return;
    this.open(meta.orgId);
    const now = Date.now();
    const activeAt = this.ctx.storage.sql.exec<{ active_at: number }>("SELECT active_at FROM session WHERE id = 1").one().active_at;
    if (this.inFlight === 0 && now - activeAt > SESSION_IDLE_MS) {
      for (const ws of this.ctx.getWebSockets()) ws.close(1001, "session expired");
      await this.ctx.storage.deleteAll();
      this.window = undefined;
      this.eventLog = undefined;
      return;
    }
    this.hot.evict(now);
    await this.ctx.storage.setAlarm(Math.max(now + 60_000, Math.min(now + this.hot.limits.ttlMs, activeAt + SESSION_IDLE_MS + 1000)));
  }
}
