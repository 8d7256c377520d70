/**
 * One per API key, for the embedded rate limiter (src/lib/usage/rate-limit.ts): the key's fixed window
 * lives in memory. An object evicted between requests starts a fresh window, as the platform's own
 * limiter counts approximately too.
 */
import { DurableObject } from "cloudflare:workers";
import { FixedWindow, type RateDecision } from "../src/lib/usage/rate-limit";

export class KeyRateLimiter extends DurableObject<Env> {
  private readonly window = new FixedWindow();

  async take(limit: number): Promise<RateDecision> {
    return this.window.take(limit, Date.now());
  }
}
