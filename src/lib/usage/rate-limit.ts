/**
 * Requests per minute per API key. One interface, two implementations: the Workers Rate Limiting binding
 * (production; its limit is set on the binding in wrangler.toml) and an embedded one for `npm run dev` and
 * the tests — a fixed one-minute window per key, counted in the key's own Durable Object (KeyRateLimiter),
 * limited by RATE_LIMIT_PER_MINUTE.
 */
export type RateDecision = { ok: boolean; retryAfterSeconds: number };

export interface RateLimiter {
  allow(key: string): Promise<RateDecision>;
}

const WINDOW_MS = 60_000;

/** A fixed window: at most `limit` takes per minute, counted from the window's first take. */
export class FixedWindow {
  private start = Number.NEGATIVE_INFINITY;
  private used = 0;

  take(limit: number, now: number): RateDecision {
    if (now - this.start >= WINDOW_MS) {
      this.start = now;
      this.used = 0;
    }
    if (this.used >= limit) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((this.start + WINDOW_MS - now) / 1000)) };
    this.used++;
    return { ok: true, retryAfterSeconds: 0 };
  }
}

/** The binding: it answers only success or not, so a refusal asks the client to wait out the window. */
export function bindingLimiter(binding: RateLimit): RateLimiter {
  return {
    async allow(key) {
      const { success } = await binding.limit({ key });
      return { ok: success, retryAfterSeconds: success ? 0 : WINDOW_MS / 1000 };
    },
  };
}

/** The embedded limiter: `take` counts one request of `key` in its window (the key's KeyRateLimiter object). */
export function embeddedLimiter(take: (key: string, limit: number) => Promise<RateDecision>, perMinute: number): RateLimiter {
  return { allow: (key) => take(key, perMinute) };
}

export const DEFAULT_REQUESTS_PER_MINUTE = 600;

/**
 * The platform's limit (the production binding when there is one, else the embedded limiter at
 * RATE_LIMIT_PER_MINUTE) and, when the org set a lower one (`requestsPerMinutePerKey`), the embedded
 * limiter at the org's: a request must pass both.
 */
export function rateLimiterFor(env: Env, orgPerMinute: number | null = null): RateLimiter {
  const configured = Number(env.RATE_LIMIT_PER_MINUTE);
  const platformPerMinute = Number.isInteger(configured) && configured > 0 ? configured : DEFAULT_REQUESTS_PER_MINUTE;
  const embedded = (perMinute: number) => embeddedLimiter((key, limit) => env.KEY_RATE_LIMITER.getByName(key).take(limit), perMinute);
  const platform = env.API_RATE_LIMIT ? bindingLimiter(env.API_RATE_LIMIT) : embedded(platformPerMinute);
  if (orgPerMinute === null || orgPerMinute >= platformPerMinute) return platform;
  const org = embedded(orgPerMinute);
  return {
    async allow(key) {
      // Locally both are the same window: the org's lower limit alone decides.
      if (!env.API_RATE_LIMIT) return org.allow(key);
      const first = await platform.allow(key);
      return first.ok ? org.allow(`org-limit:${key}`) : first;
    },
  };
}
