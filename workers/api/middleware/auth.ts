/**
 * Bearer-token authentication. API keys are the principals (src/lib/auth): `requireKey` finds the key
 * and its org, `need` checks a route's scope. The bootstrap token (WINKY_API_TOKEN) is the operator's
 * credential: it creates orgs (`requireOperator`) and is refused everywhere else.
 * Browsers cannot set headers on a WebSocket, so an upgrade may carry the token as the subprotocol
 * `bearer.<token>` instead (offered next to `winky`, which the server selects).
 */
import type { MiddlewareHandler } from "hono";
import { authenticate, requireScope, type Scope, touchKey } from "../../../src/lib/auth";
import { constantTimeEqual } from "../../../src/lib/crypto/hash";
import { AppError } from "../../../src/lib/errors";
import { openDb } from "../../../src/lib/storage";
import type { AppEnv } from "../types";

const missingToken = () => new AppError(401, "unauthorized", "send Authorization: Bearer <token>");

const isBootstrap = (env: Env, token: string): boolean =>
  env.WINKY_API_TOKEN !== undefined && env.WINKY_API_TOKEN !== "" && constantTimeEqual(token, env.WINKY_API_TOKEN);

/** The caller's API key: 401 without a valid one, 403 for the bootstrap token. */
export function requireKey(): MiddlewareHandler<AppEnv> {
  return async function requireKey(c, next) {
    const token = bearerToken(c.req.raw.headers);
    if (!token) throw missingToken();
    if (isBootstrap(c.env, token)) {
      throw new AppError(403, "forbidden", "the bootstrap token only creates orgs (POST /api/orgs); use an API key of the org");
    }
    const db = openDb(c.env.DB);
    const now = Date.now();
    const key = await authenticate(db, token, now);
    c.set("key", key);
    c.set("orgId", key.orgId);
    c.executionCtx.waitUntil(touchKey(db, key, now).catch((e: unknown) => console.error(JSON.stringify({ touchKey: String(e) }))));
    return next();
  };
}

/** 403 unless the caller's key holds `scope`. */
export function need(scope: Scope): MiddlewareHandler<AppEnv> {
  return async function need(c, next) {
    requireScope(c.var.key, scope);
    return next();
  };
}

/** Only the bootstrap token: 401 without a token, 403 for anything else. */
export function requireOperator(): MiddlewareHandler<AppEnv> {
  return async function requireOperator(c, next) {
    const token = bearerToken(c.req.raw.headers);
    if (!token) throw missingToken();
    if (!isBootstrap(c.env, token)) throw new AppError(403, "forbidden", "only the operator's bootstrap token creates orgs");
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
