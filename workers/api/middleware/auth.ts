/**
 * Bearer-token authentication: the bootstrap token (WINKY_API_TOKEN) or a hashed API key of an org.
 * Browsers cannot set headers on a WebSocket, so an upgrade may carry the token as the subprotocol
 * `bearer.<token>` instead (offered next to `winky`, which the server selects).
 */
import { and, eq, isNull } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { constantTimeEqual, sha256Hex } from "../../../src/lib/crypto/hash";
import { AppError } from "../../../src/lib/errors";
import { openDb, tables } from "../../../src/lib/storage";
import type { AppEnv } from "../types";

/** The org the bootstrap token belongs to. */
export const DEFAULT_ORG_ID = "org_default";

export function requireAuth(): MiddlewareHandler<AppEnv> {
  return async function requireAuth(c, next) {
    const token = bearerToken(c.req.raw.headers);
    if (!token) throw new AppError(401, "unauthorized", "send Authorization: Bearer <token>");
    const db = openDb(c.env.DB);
    const bootstrap = c.env.WINKY_API_TOKEN;
    if (bootstrap && constantTimeEqual(token, bootstrap)) {
      await db.insert(tables.orgs).values({ orgId: DEFAULT_ORG_ID, name: "default" }).onConflictDoNothing();
      c.set("orgId", DEFAULT_ORG_ID);
      c.set("isBootstrap", true);
      return next();
    }
    const key = await db
      .select({ orgId: tables.apiKeys.orgId })
      .from(tables.apiKeys)
      .where(and(eq(tables.apiKeys.keyHash, await sha256Hex(token)), isNull(tables.apiKeys.revokedAt)))
      .get();
    if (!key) throw new AppError(401, "unauthorized", "the token is not valid");
    c.set("orgId", key.orgId);
    c.set("isBootstrap", false);
    return next();
  };
}

export const WS_PROTOCOL = "winky";

function bearerToken(headers: Headers): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(headers.get("authorization") ?? "");
  if (match) return match[1];
  if (headers.get("upgrade")?.toLowerCase() !== "websocket") return undefined;
  const offered = (headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
  return offered.find((p) => p.startsWith("bearer."))?.slice("bearer.".length) || undefined;
}
