/**
 * Which key opened each of a session's sockets, and closing those whose key can no longer be used: the
 * Worker passes the checked key in a header, the socket is tagged with its id, and while any socket is
 * open the session's alarm checks those keys every KEY_CHECK_MS.
 */
import { z } from "zod";
import type { Access } from "../auth/access";
import { unusableKeys } from "../auth/keys";
import type { Db } from "../storage";
import { closeSockets } from "./sockets";

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

export const keyTag = (keyId: string): string => `${KEY_TAG}${keyId}`;

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
  for (const keyId of keyIds) closeSockets(ctx.getWebSockets(keyTag(keyId)), 4401, "the key was revoked or expired");
}

/** Closes the sockets of keys revoked or expired since they connected. */
export async function closeRevokedSockets(ctx: Pick<DurableObjectState, "getWebSockets" | "getTags">, db: Db, now: number): Promise<void> {
  const keys = socketKeys(ctx);
  if (keys.length > 0) closeSocketsOfKeys(ctx, await unusableKeys(db, keys, now));
}

/** When the alarm must run next: no later than the next key check while any socket is open. */
export function withKeyCheck(ctx: Pick<DurableObjectState, "getWebSockets">, nextAlarmAt: number, now: number): number {
  return ctx.getWebSockets().length > 0 ? Math.min(nextAlarmAt, now + KEY_CHECK_MS) : nextAlarmAt;
}

/** Brings the alarm forward to the next key check, for a socket just accepted. */
export async function scheduleKeyCheck(storage: Pick<DurableObjectStorage, "getAlarm" | "setAlarm">, now: number): Promise<void> {
  const alarm = await storage.getAlarm();
  if (alarm === null || alarm > now + KEY_CHECK_MS) await storage.setAlarm(now + KEY_CHECK_MS);
}
