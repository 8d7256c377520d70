/**
 * Requests per minute per API key (src/lib/usage/rate-limit.ts), the platform's or the org's lower one:
 * over it, 429 with Retry-After.
 */
import type { MiddlewareHandler } from "hono";
import { AppError } from "../../../src/lib/errors";
import { openDb } from "../../../src/lib/storage";
import { orgRequestsPerMinute } from "../../../src/lib/usage";
import { rateLimiterFor } from "../../../src/lib/usage/rate-limit";
import type { AppEnv } from "../types";

export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async function rateLimit(c, next) {
    const orgPerMinute = await orgRequestsPerMinute(openDb(c.env.DB), c.var.orgId);
    const decision = await rateLimiterFor(c.env, orgPerMinute).allow(c.var.key.keyId);
    if (!decision.ok) {
      c.header("retry-after", String(decision.retryAfterSeconds));
      throw new AppError(429, "rate_limited", `this key made too many requests this minute; try again in ${decision.retryAfterSeconds} s`);
    }
    return next();
  };
}
