/**
 * One per session: the hot window (blocks its calls used, LRU + TTL, bounded in bytes), the last
 * messages of the conversation, hot paths, the token and cost meter, and the event log its WebSocket
 * clients follow (hibernation API: the object sleeps between events without dropping sockets).
 * Generation inside a session runs here, so its events are published as they happen.
 */
import { DurableObject } from "cloudflare:workers";
import type { AssembleResult } from "../src/lib/assembly/assemble";
import { AppError, caught, type ErrorResult, unwrap } from "../src/lib/errors";
import { costUsd, DEFAULT_MODEL } from "../src/lib/model/anthropic-adapter";
import type { Assembler, GenerationEvent } from "../src/lib/model/generate";
import { type GeneratePrototype, type GenerationResponse, runGeneration } from "../src/lib/model/run-generation";
import { getProject } from "../src/lib/projects/projects";
import { EventLog, type SessionEvent } from "../src/lib/session/event-log";
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

// The spec's prompt carries the last 10 messages; the object keeps a few more for GET.
const PROMPT_MESSAGES = 10;
const KEPT_MESSAGES = 50;
const KEPT_HOT_PATHS = 50;
// Model text is streamed in events of about this size or age, not one event per token.
const TOKEN_FLUSH_CHARS = 400;
const TOKEN_FLUSH_MS = 100;

export class Session extends DurableObject<Env> {
  private hot: HotWindow | undefined;
  private log: EventLog | undefined;
  private running = false;

  /** The session's record, or undefined when this object was never created (nothing is written then). */
  private meta(): SessionMeta | undefined {
    const sql = this.ctx.storage.sql;
    if (!sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'session'").toArray().length) return undefined;
    const row = sql.exec<{ data: string }>("SELECT data FROM session WHERE id = 1").toArray()[0];
    return row ? (JSON.parse(row.data) as SessionMeta) : undefined;
  }

  private open(orgId: string): SessionMeta {
    const meta = this.meta();
    // Another org's session is answered like a missing one.
    if (!meta || meta.orgId !== orgId) throw new AppError(404, "session_not_found", "no such session");
    this.hot ??= new HotWindow(this.ctx.storage.sql);
    this.log ??= new EventLog(this.ctx.storage.sql);
    return meta;
  }

  async create(meta: SessionMeta): Promise<SessionInfo> {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS session (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL, meter TEXT NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, role TEXT NOT NULL, content TEXT NOT NULL, at TEXT NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS hot_paths (path TEXT PRIMARY KEY, used_at INTEGER NOT NULL)");
    const meter: Meter = { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    sql.exec("INSERT OR IGNORE INTO session (id, data, meter) VALUES (1, ?, ?)", JSON.stringify(meta), JSON.stringify(meter));
    this.open(meta.orgId);
    await this.ctx.storage.setAlarm(Date.now() + (this.hot as HotWindow).limits.ttlMs);
    return this.describe(meta);
  }

  async info(orgId: string): Promise<SessionInfo | ErrorResult> {
    return caught(async () => this.describe(this.open(orgId)));
  }

  private describe(meta: SessionMeta): SessionInfo {
    const sql = this.ctx.storage.sql;
    return {
      ...meta,
      meter: JSON.parse(sql.exec<{ meter: string }>("SELECT meter FROM session WHERE id = 1").one().meter) as Meter,
      hotWindow: (this.hot as HotWindow).stats(),
      hotPaths: this.hotPaths(),
      messages: this.messages(KEPT_MESSAGES),
      lastEventSeq: (this.log as EventLog).last(),
      running: this.running,
    };
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

  private remember(messages: { role: string; content: string }[], paths: string[]): void {
    const sql = this.ctx.storage.sql;
    const at = new Date().toISOString();
    for (const m of messages) sql.exec("INSERT INTO messages (role, content, at) VALUES (?, ?, ?)", m.role, m.content, at);
    sql.exec("DELETE FROM messages WHERE seq <= (SELECT max(seq) FROM messages) - ?", KEPT_MESSAGES);
    const now = Date.now();
    for (const p of paths) sql.exec("INSERT OR REPLACE INTO hot_paths (path, used_at) VALUES (?, ?)", p, now);
    sql.exec("DELETE FROM hot_paths WHERE path NOT IN (SELECT path FROM hot_paths ORDER BY used_at DESC LIMIT ?)", KEPT_HOT_PATHS);
  }

  private publish(type: string, data: unknown): SessionEvent {
    const event = (this.log as EventLog).append(type, data);
    const frame = JSON.stringify(event);
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(frame);
      } catch {
        // A socket that is closing misses this event live; it gets it on resume.
      }
    }
    return event;
  }

  /**
   * Assembly through the hot window: the project's index leaves out the text of blocks the window holds,
   * the window fills them in, and the blocks used are recorded. The session's hot paths and last
   * messages join the request.
   */
  private assembler(meta: SessionMeta, tokenizer: Tokenizer): (...args: Parameters<Assembler>) => Promise<SessionAssembleResult> {
    const shard = this.env.PROJECT_INDEX.getByName(meta.projectId);
    const hot = this.hot as HotWindow;
    return async (prompt, budget, hotPaths) => {
      const req = {
        prompt,
        budget,
        hotPaths: [...new Set([...hotPaths, ...this.hotPaths()])],
        tokenizer,
        conversation: this.messages(PROMPT_MESSAGES).map((m) => ({ role: m.role, content: m.content })),
        includeText: true,
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
      return { ...rest, contextText: text ?? "", hotWindow: usage };
    };
  }

  async assemble(orgId: string, req: SessionAssembleRequest): Promise<SessionAssembleResult | ErrorResult> {
    return caught(async () => {
      const meta = this.open(orgId);
      const result = await this.assembler(meta, req.tokenizer)(req.prompt, req.budget, req.hotPaths);
      this.remember([], req.hotPaths);
      this.publish("context", {
        tokenTotal: result.tokenTotal,
        tokenBudget: result.tokenBudget,
        hotWindow: result.hotWindow,
        pieces: result.contextPieces.map((p) => ({ id: p.chunkId, kind: p.kind, path: p.sourcePath, lines: [p.startLine, p.endLine], tokens: p.tokenCount })),
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
      this.running = true;
      const db = openDb(this.env.DB);
      let pending: { pass: string; text: string; since: number } | undefined;
      let calls = 0;
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
        if (e.type === "call") calls++;
        const { type, ...data } = e;
        this.publish(type, data);
      };
      this.publish("started", { prompt: body.prompt, dryRun: body.dryRun });
      try {
        const project = await getProject(db, meta.projectId, orgId);
        const result = await runGeneration(this.env, db, project, orgId, body, {
          assemble: this.assembler(meta, tokenizerFor(this.env.MODEL ?? DEFAULT_MODEL)),
          emit,
          sessionId: meta.sessionId,
        });
        flush();
        if (!("dryRun" in result)) {
          this.meter(result.usage, this.env.MODEL ?? DEFAULT_MODEL, calls);
          this.remember(
            [
              { role: "user", content: body.prompt },
              { role: "assistant", content: `${result.plan.summary} (changed: ${result.diffs.map((d) => ("path" in d ? d.path : "diff")).join(", ")})` },
            ],
            [...body.hotPaths, ...result.diffs.flatMap((d) => ("path" in d && d.path ? [d.path] : []))],
          );
        }
        this.publish("result", result);
        return result;
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

  private meter(usage: { inputTokens: number; outputTokens: number }, model: string, calls: number): void {
    const sql = this.ctx.storage.sql;
    const m = JSON.parse(sql.exec<{ meter: string }>("SELECT meter FROM session WHERE id = 1").one().meter) as Meter;
    const next: Meter = {
      calls: m.calls + calls,
      inputTokens: m.inputTokens + usage.inputTokens,
      outputTokens: m.outputTokens + usage.outputTokens,
      costUsd: Math.round((m.costUsd + costUsd(model, usage)) * 1e6) / 1e6,
    };
    sql.exec("UPDATE session SET meter = ? WHERE id = 1", JSON.stringify(next));
  }

  /**
   * The WebSocket upgrade, after the Worker checked the token and the session's org (passed as
   * `x-winky-org`). `?after=<seq>` replays the events after that number before live ones.
   */
  async fetch(request: Request): Promise<Response> {
    const meta = this.meta();
    if (!meta || meta.orgId !== request.headers.get("x-winky-org"))
      return Response.json(new AppError(404, "session_not_found", "no such session").toJSON(), { status: 404 });
    this.open(meta.orgId);
    const after = Number(new URL(request.url).searchParams.get("after") ?? "0");
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    this.replay(server, Number.isFinite(after) ? after : 0);
    const protocols = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
    return new Response(null, { status: 101, webSocket: client, headers: protocols.includes("winky") ? { "sec-websocket-protocol": "winky" } : {} });
  }

  private replay(ws: WebSocket, after: number): void {
    const log = this.log as EventLog;
    const first = log.first();
    // Events older than the log keeps are gone: say so instead of pretending the stream is complete.
    if (after > 0 && first > after + 1) ws.send(JSON.stringify({ type: "gap", from: after + 1, to: first - 1 }));
    for (const e of log.since(after)) ws.send(JSON.stringify(e));
    ws.send(JSON.stringify({ type: "replayed", lastEventSeq: log.last(), running: this.running }));
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
      return ws.send(JSON.stringify({ type: "invalid", message: "messages are JSON: {type: 'resume', after: seq} or {type: 'ping'}" }));
    }
    if (msg.type === "resume" && typeof msg.after === "number" && Number.isInteger(msg.after) && msg.after >= 0) return this.replay(ws, msg.after);
    if (msg.type === "ping") return ws.send(JSON.stringify({ type: "pong", lastEventSeq: (this.log as EventLog).last() }));
    ws.send(JSON.stringify({ type: "invalid", message: "messages are JSON: {type: 'resume', after: seq} or {type: 'ping'}" }));
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }

  /** Expires the hot window's stale entries while the session is idle. */
  async alarm(): Promise<void> {
    const meta = this.meta();
    if (!meta) return;
    this.open(meta.orgId);
    const hot = this.hot as HotWindow;
    hot.evict();
    if (hot.stats().entries > 0) await this.ctx.storage.setAlarm(Date.now() + hot.limits.ttlMs);
  }
}
