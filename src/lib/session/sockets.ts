/**
 * The session's WebSockets: accepting one (hibernatable, with the replay it asked for) and closing them
 * all. The Durable Object hands in its state; nothing here keeps a socket.
 */
import { z } from "zod";
import type { Access } from "../auth/access";
import type { EventLog } from "./event-log";
import { replay, resumePoint } from "./replay";

const KEY_TAG = "key:";

/** How often an open socket's key is checked: a revoked key's sockets close within this (plus an alarm's delay). */
export const KEY_CHECK_MS = 5_000;

const SocketCaller = z.object({
  orgId: z.string().min(1),
  keyId: z.string().min(1),
  projectIds: z.array(z.string()).nullable(),
});

/** What the Worker tells the object about the key opening a socket (it sets these headers after checking the key). */
export function socketCallerHeaders(key: { orgId: string; keyId: string; projectIds: readonly string[] | null }): Record<string, string> {
  return { "x-winky-caller": JSON.stringify({ orgId: key.orgId, keyId: key.keyId, projectIds: key.projectIds }) };
}

export function socketCaller(headers: Headers): { access: Access; keyId: string } | undefined {
  const raw = headers.get("x-winky-caller");
  if (!raw) return undefined;
  try {
    const c = SocketCaller.parse(JSON.parse(raw));
    return { access: { orgId: c.orgId, projectIds: c.projectIds }, keyId: c.keyId };
  } catch {
    return undefined;
  }
}

/**
 * Accepts the upgrade: `?after=<seq>` replays the events after it; without it, the latest run's. The
 * socket is tagged with the id of the key that opened it, so revoking the key can close it.
 */
export function acceptSocket(ctx: Pick<DurableObjectState, "acceptWebSocket">, log: EventLog, request: Request, running: boolean, keyId: string): Response {
  const after = resumePoint(new URL(request.url).searchParams.get("after"), log);
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  ctx.acceptWebSocket(server, [`${KEY_TAG}${keyId}`]);
  replay(log, (f) => server.send(f), after, running);
  // A browser offers the token as a subprotocol next to "winky"; the server selects "winky".
  const protocols = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
  return new Response(null, { status: 101, webSocket: client, headers: protocols.includes("winky") ? { "sec-websocket-protocol": "winky" } : {} });
}

/** The ids of the keys that opened the object's sockets. */
export function socketKeys(ctx: Pick<DurableObjectState, "getWebSockets" | "getTags">): string[] {
  const keys = new Set<string>();
  for (const ws of ctx.getWebSockets()) {
    for (const tag of ctx.getTags(ws)) if (tag.startsWith(KEY_TAG)) keys.add(tag.slice(KEY_TAG.length));
  }
  return [...keys];
}

/** Closes the sockets opened with any of `keyIds` (4401: the key was revoked or expired). */
export function closeSocketsOfKeys(ctx: Pick<DurableObjectState, "getWebSockets">, keyIds: readonly string[]): void {
  for (const keyId of keyIds) closeSockets(ctx.getWebSockets(`${KEY_TAG}${keyId}`), 4401, "the key was revoked or expired");
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
