/**
 * The session's WebSockets: accepting one (hibernatable, with the replay it asked for) and closing them
 * all. The Durable Object hands in its state; nothing here keeps a socket.
 */
import type { EventLog } from "./event-log";
import { replay, resumePoint } from "./replay";

/**
 * Accepts the upgrade: `?after=<seq>` replays the events after it; without it, the latest run's. `tags`
 * (the key that opened it, see socket-keys.ts) let the object find the socket again.
 */
export function acceptSocket(ctx: Pick<DurableObjectState, "acceptWebSocket">, log: EventLog, request: Request, running: boolean, tags: string[]): Response {
  const after = resumePoint(new URL(request.url).searchParams.get("after"), log);
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  ctx.acceptWebSocket(server, tags);
  replay(log, (f) => server.send(f), after, running);
  // A browser offers the token as a subprotocol next to "winky"; the server selects "winky".
  const protocols = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
  return new Response(null, { status: 101, webSocket: client, headers: protocols.includes("winky") ? { "sec-websocket-protocol": "winky" } : {} });
}

export function closeSockets(sockets: Iterable<WebSocket>, code: number, reason: string): void {
  for (const ws of sockets) {
    try {
      ws.close(code, reason);
    } catch {
      // Already closing.
    }
  }
}
