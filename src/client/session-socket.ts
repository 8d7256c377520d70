/**
 * A session's WebSocket (GET /api/sessions/:id/ws) that does not lose events: every event carries a
 * sequence number; when the socket drops, it reconnects with `?after=<last seq seen>` and the server
 * replays what was missed. A `more` frame (a replay cut short) is answered with a `resume` message.
 * The key travels as the subprotocol `bearer.<key>` next to `winky`, which works in browsers too.
 */
import type { SessionControlFrame, SessionEvent } from "./responses";

/** What the client needs of a WebSocket: the standard browser API's shape. */
export type SocketLike = {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open", listener: () => void): void;
  addEventListener(type: "message", listener: (ev: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: (ev: { code: number; reason: string }) => void): void;
  addEventListener(type: "error", listener: (ev: unknown) => void): void;
};
export type SocketFactory = (url: string, protocols: string[]) => SocketLike;

export type SessionSocketOptions = {
  /** Start after this event number: 0 for everything the log holds; left out, the latest run's events. */
  after?: number;
  onEvent: (event: SessionEvent) => void;
  onControl?: (frame: SessionControlFrame) => void;
  /** Each reconnection, with the attempt number and the last event number seen. */
  onReconnect?: (attempt: number, after: number) => void;
  /** Defaults to the global WebSocket (browsers, Node 22+). */
  socket?: SocketFactory;
  /** Waits before reconnection attempts; the last repeats. After `maxAttempts` failures in a row it gives up. */
  backoffMs?: readonly number[];
  maxAttempts?: number;
};

// A dropped socket is retried at once, then with growing waits: a redeploy takes a few seconds.
const BACKOFF_MS = [0, 500, 1_000, 2_000, 5_000];
const MAX_ATTEMPTS = 20;

const defaultFactory: SocketFactory = (url, protocols) => {
  const Ctor = (globalThis as { WebSocket?: new (url: string, protocols: string[]) => SocketLike }).WebSocket;
  if (!Ctor) throw new TypeError("no global WebSocket here: pass `socket`");
  return new Ctor(url, protocols);
};

export const isSessionEvent = (frame: unknown): frame is SessionEvent =>
  frame !== null && typeof frame === "object" && typeof (frame as { seq?: unknown }).seq === "number" && typeof (frame as { type?: unknown }).type === "string";

export class SessionSocket {
  /** The last event number delivered. */
  lastSeq: number;
  private socket: SocketLike | undefined;
  private stopped = false;
  private failures = 0;
  private readonly done: Promise<void>;
  private finish: (error?: unknown) => void = () => undefined;

  constructor(
    private readonly wsUrl: string,
    private readonly apiKey: string,
    private readonly options: SessionSocketOptions,
  ) {
    this.lastSeq = options.after ?? -1;
    this.done = new Promise<void>((resolve, reject) => {
      this.finish = (error?: unknown) => (error === undefined ? resolve() : reject(error));
    });
    this.connect();
  }

  /** Settles when `close()` is called, or rejects when reconnecting gave up. */
  get closed(): Promise<void> {
    return this.done;
  }

  close(): void {
    this.stopped = true;
    this.socket?.close(1000, "client closed");
    this.finish();
  }

  private connect(): void {
    const url = this.lastSeq >= 0 ? `${this.wsUrl}?after=${this.lastSeq}` : this.wsUrl;
    let ws: SocketLike;
    try {
      ws = (this.options.socket ?? defaultFactory)(url, ["winky", `bearer.${this.apiKey}`]);
    } catch (e) {
      this.stopped = true;
      this.finish(e);
      return;
    }
    this.socket = ws;
    ws.addEventListener("message", (ev) => this.receive(ws, ev.data));
    ws.addEventListener("error", () => undefined);
    ws.addEventListener("close", (ev) => this.dropped(ev.code, ev.reason));
  }

  private receive(ws: SocketLike, data: unknown): void {
    this.failures = 0;
    let frame: unknown;
    try {
      frame = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data as ArrayBuffer));
    } catch {
      return;
    }
    if (isSessionEvent(frame)) {
      // A replay after a reconnection may repeat what was already delivered.
      if (frame.seq <= this.lastSeq) return;
      this.lastSeq = frame.seq;
      this.options.onEvent(frame);
      return;
    }
    const control = frame as SessionControlFrame;
    if (control.type === "more") ws.send(JSON.stringify({ type: "resume", after: control.after }));
    if (control.type === "replayed" && this.lastSeq < 0) this.lastSeq = control.lastEventSeq;
    this.options.onControl?.(control);
  }

  private dropped(code: number, reason: string): void {
    if (this.stopped) return;
    // The server closed for good: the session was deleted, or the key may no longer read it.
    if (code === 1008 || reason === "session deleted" || reason === "session gone") {
      this.stopped = true;
      this.finish(new Error(`the session socket was closed: ${code} ${reason}`));
      return;
    }
    const attempt = ++this.failures;
    if (attempt > (this.options.maxAttempts ?? MAX_ATTEMPTS)) {
      this.stopped = true;
      this.finish(new Error(`the session socket dropped and ${attempt - 1} reconnections failed (last: ${code} ${reason})`));
      return;
    }
    const waits = this.options.backoffMs ?? BACKOFF_MS;
    const wait = waits[Math.min(attempt - 1, waits.length - 1)] ?? 0;
    setTimeout(() => {
      if (this.stopped) return;
      this.options.onReconnect?.(attempt, this.lastSeq);
      this.connect();
    }, wait);
  }
}
