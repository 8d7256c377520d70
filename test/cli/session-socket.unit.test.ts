/** SessionSocket without a server: a dropped socket reconnects with ?after=<last seq>, repeats are dropped, `more` is resumed. */
import { describe, expect, it } from "vitest";
import { type SessionEvent, SessionSocket, type SocketLike } from "../../src/client";

type Listener = (ev: never) => void;

class FakeSocket {
  readonly listeners = new Map<string, Listener[]>();
  readonly sent: string[] = [];
  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {}
  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {}
  emit(type: "message" | "close", ev: { data: string } | { code: number; reason: string }): void {
    for (const l of this.listeners.get(type) ?? []) (l as (e: typeof ev) => void)(ev);
  }
}

const frame = (seq: number, type = "tokens") => ({ data: JSON.stringify({ seq, type, at: "2026-01-01T00:00:00Z", data: {} }) });

describe("SessionSocket", () => {
  it("reconnects after a drop with ?after=<last seq>, skips replayed repeats and offers the key as a subprotocol", async () => {
    const sockets: FakeSocket[] = [];
    const events: SessionEvent[] = [];
    const reconnects: number[] = [];
    const socket = new SessionSocket("ws://h/api/sessions/ses_x/ws", "wk_key", {
      after: 0,
      onEvent: (e) => events.push(e),
      onReconnect: (_attempt, after) => reconnects.push(after),
      backoffMs: [0],
      socket: (url, protocols) => {
        const s = new FakeSocket(url, protocols);
        sockets.push(s);
        return s as unknown as SocketLike;
      },
    });
    expect(sockets[0]?.url).toBe("ws://h/api/sessions/ses_x/ws?after=0");
    expect(sockets[0]?.protocols).toEqual(["winky", "bearer.wk_key"]);
    sockets[0]?.emit("message", frame(1));
    sockets[0]?.emit("message", frame(2));
    sockets[0]?.emit("close", { code: 1006, reason: "" });
    await new Promise((r) => setTimeout(r, 5));
    expect(reconnects).toEqual([2]);
    expect(sockets[1]?.url).toBe("ws://h/api/sessions/ses_x/ws?after=2");
    // A replay may repeat an event already delivered; it is delivered once.
    sockets[1]?.emit("message", frame(2));
    sockets[1]?.emit("message", frame(3, "result"));
    sockets[1]?.emit("message", { data: JSON.stringify({ type: "more", after: 3, lastEventSeq: 9 }) });
    expect(sockets[1]?.sent).toEqual([JSON.stringify({ type: "resume", after: 3 })]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    socket.close();
    await expect(socket.closed).resolves.toBeUndefined();
  });

  it("gives up after maxAttempts reconnections in a row", async () => {
    const socket = new SessionSocket("ws://h/ws", "k", {
      onEvent: () => undefined,
      backoffMs: [0],
      maxAttempts: 2,
      socket: () => {
        const s = new FakeSocket("", []);
        setTimeout(() => s.emit("close", { code: 1006, reason: "" }), 0);
        return s as unknown as SocketLike;
      },
    });
    await expect(socket.closed).rejects.toThrow(/2 reconnections failed/);
  });
});
