/**
 * One per session: the host of the session's modules (`src/lib/session/`). It owns the SQLite storage
 * and the lifecycle — the versioned schema, the idle alarm, WebSocket accept and hibernation handlers
 * (the object sleeps between events without dropping sockets), wipe. Generation inside a session runs
 * here, so its events reach the sockets as they happen.
 */
import { DurableObject } from "cloudflare:workers";
import type { Access } from "../src/lib/auth";
import { AppError, caught, type ErrorResult } from "../src/lib/errors";
import { measuredAssembler, metricsRecorder, recordQuietly } from "../src/lib/metrics";
import type { GeneratePrototype, GenerationResponse } from "../src/lib/model/run-generation";
import * as s from "../src/lib/session";
import { openDb } from "../src/lib/storage";
import type { Tokenizer } from "../src/lib/tokenizer";

export { type Meter, SESSION_IDLE_MS, type SessionAssembleRequest, type SessionAssembleResult, type SessionInfo, type SessionMeta } from "../src/lib/session";

export class Session extends DurableObject<Env> {
  private store: s.SessionStore | undefined;
  private running = false;
  private readonly activity = new s.Activity(this.ctx.storage.sql);

  private open(access: Access | undefined): { meta: s.SessionMeta; store: s.SessionStore } {
    const meta = s.readSessionMeta(this.ctx.storage.sql);
    // A session stored by older code is brought to the current schema before anything reads it.
    if (meta && !this.store) s.migrateSession(this.ctx.storage);
    const owned = s.requireOwner(meta, access);
    this.store ??= new s.SessionStore(this.ctx.storage.sql);
    return { meta: owned, store: this.store };
  }

  private publish = (store: s.SessionStore, type: string, data: unknown): void => s.publish(store.log, this.ctx.getWebSockets(), type, data);

  /** The session's window assembler; each assembly's latency and hot-window hits are recorded as metrics. */
  private assembler(meta: s.SessionMeta, store: s.SessionStore, tokenizer: Tokenizer): s.WindowAssembler {
    const assemble = s.windowAssembler(this.env.PROJECT_INDEX.getByName(meta.projectId), store.hot, store.memory, tokenizer);
    const recorder = metricsRecorder(this.env);
    return measuredAssembler(assemble, { orgId: meta.orgId, projectId: meta.projectId }, (events) => this.ctx.waitUntil(recordQuietly(recorder, events)));
  }

  async create(meta: s.SessionMeta): Promise<s.SessionInfo> {
    s.migrateSession(this.ctx.storage);
    s.insertSessionRecord(this.ctx.storage.sql, meta, s.EMPTY_METER, Date.now());
    const { store } = this.open(s.ownerAccess(meta));
    await this.ctx.storage.setAlarm(Date.now() + store.hot.limits.ttlMs);
    return store.describe(meta, this.running);
  }

  async info(access: Access): Promise<s.SessionInfo | ErrorResult> {
    return caught(async () => {
      const { meta, store } = this.open(access);
      return store.describe(meta, this.running);
    });
  }

  async assemble(access: Access, req: s.SessionAssembleRequest): Promise<s.SessionAssembleResult | ErrorResult> {
    return caught(async () => {
      const { meta, store } = this.open(access);
      const assembler = this.assembler(meta, store, req.tokenizer);
      const busy: s.WindowAssembler = (...args) => this.activity.busy(() => assembler(...args));
      return s.assembleInSession(busy, store, req, (type, data) => this.publish(store, type, data));
    });
  }

  /** A generation run inside the session: its events go to the log and the sockets as they happen. */
  async generate(
    access: Access & { keyId?: string },
    body: GeneratePrototype,
    requestId?: string,
    quotaWarnings: string[] = [],
  ): Promise<GenerationResponse | ErrorResult> {
    return caught(async () => {
      const { meta, store } = this.open(access);
      const { orgId } = meta;
      s.checkCanGenerate(meta, body, this.running);
      const publish = (type: string, data: unknown) => this.publish(store, type, data);
      if (quotaWarnings.length > 0) publish("quota", { warnings: quotaWarnings });
      const assembler = (tokenizer: Tokenizer) => this.assembler(meta, store, tokenizer);
      this.running = true;
      try {
        return await this.activity.busy(() =>
          s.generateInSession({ env: this.env, meta, store, orgId, keyId: access.keyId, body, requestId, publish, assembler }),
        );
      } finally {
        this.running = false;
      }
    });
  }

  /** The WebSocket upgrade, after the Worker checked the key (its access and id passed in `x-winky-*` headers). */
  async fetch(request: Request): Promise<Response> {
    let store: s.SessionStore;
    const caller = s.socketCaller(request.headers);
    try {
      store = this.open(caller?.access).store;
    } catch (e) {
      if (e instanceof AppError) return Response.json(e.toJSON(request.headers.get("x-winky-request-id") ?? undefined), { status: e.status });
      throw e;
    }
    this.activity.touch();
    await s.scheduleKeyCheck(this.ctx.storage, Date.now());
    return s.acceptSocket(this.ctx, store.log, request, this.running, [s.keyTag(caller?.keyId ?? "")]);
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const meta = s.readSessionMeta(this.ctx.storage.sql);
    if (!meta) return ws.close(1011, "session gone");
    s.answerClientMessage(this.open(s.ownerAccess(meta)).store.log, (f) => ws.send(f), message, this.running);
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    s.closeSockets([ws], code === 1005 ? 1000 : code, reason);
  }

  /**
   * Deletes the session with everything it stored (sockets closed, alarm and storage deleted). With `access`,
   * a session it may not touch is left alone and answered as missing; without it (a project deletion) any
   * session is wiped. Wiping a session that was never created changes nothing.
   */
  async wipe(access?: Access): Promise<{ existed: boolean } | ErrorResult> {
    return caught(async () => {
      const meta = s.readSessionMeta(this.ctx.storage.sql);
      if (meta && access !== undefined) s.requireOwner(meta, access);
      await this.erase(1000, "session deleted");
      return { existed: meta !== undefined };
    });
  }

  /**
   * Closes the sockets of keys revoked or expired since they connected; expires the hot window's stale
   * entries; deletes the whole session once it has been idle too long.
   */
  async alarm(): Promise<void> {
    const meta = s.readSessionMeta(this.ctx.storage.sql);
    if (!meta) return;
    const { store } = this.open(s.ownerAccess(meta));
    const now = Date.now();
    await s.closeRevokedSockets(this.ctx, openDb(this.env.DB), now);
    const next = s.alarmDecision({ now, activeAt: this.activity.activeAt(), inFlight: this.activity.inFlight, ttlMs: store.hot.limits.ttlMs });
    if (next.expire) return this.erase(1001, "session expired");
    store.hot.evict(now);
    await this.ctx.storage.setAlarm(s.withKeyCheck(this.ctx, next.nextAlarmAt, now));
  }

  private async erase(code: number, reason: string): Promise<void> {
    s.closeSockets(this.ctx.getWebSockets(), code, reason);
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.store = undefined;
  }
}
