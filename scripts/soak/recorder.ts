/** What a soak measures: latency per operation, errors by status and code, and every 5xx with its body. */
import { isDevProxyLoss, type LocalServer } from "../local-server";

/** A request that did not succeed: its HTTP status (0 for a network failure or timeout), error code and body. */
export class ApiError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly body: string,
  ) {}
}
export type Sample = { at: number; ms: number };

/** Each request waits at most this long: a soak must end by itself even when the server stops answering. */
const REQUEST_TIMEOUT_MS = 5 * 60_000;

export class Recorder {
  readonly latencies = new Map<string, Sample[]>();
  readonly errors = new Map<string, number>();
  readonly serverErrors: { at: string; op: string; path: string; status: number; body: string }[] = [];
  readonly started = Date.now();

  constructor(private readonly server: LocalServer) {}

  note(op: string, ms: number): void {
    const list = this.latencies.get(op) ?? [];
    list.push({ at: Date.now(), ms });
    this.latencies.set(op, list);
  }

  countError(key: string): void {
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
  }

  /**
   * Calls the API with the server's token and times it as `op`. Answers the parsed body, or an `ApiError`
   * (counted under `op status code`) for a non-2xx answer, a network failure or a timeout.
   */
  async call<T>(op: string, path: string, init: RequestInit & { token?: string } = {}, attempt = 0): Promise<T | ApiError> {
    const t0 = performance.now();
    const { token, ...rest } = init;
    const headers: Record<string, string> = { ...(rest.headers as Record<string, string>) };
    if (token !== "") headers.authorization = `Bearer ${token ?? this.server.token}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.server.base}${path}`, { ...rest, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      text = await res.text();
    } catch (e) {
      const code = e instanceof Error && e.name === "TimeoutError" ? "timeout" : "network";
      this.note(op, performance.now() - t0);
      this.countError(`${op} — ${code}`);
      return new ApiError(0, code, String(e));
    }
    // wrangler's dev proxy lost its connection to the worker (see docs/benchmarks.md): local plumbing,
    // not an answer of the worker. Counted apart and sent again (the soak's bodies are buffers).
    if (isDevProxyLoss(res.status, text) && attempt < 2) {
      this.countError("dev proxy lost its connection to the worker (sent again)");
      return this.call<T>(op, path, init, attempt + 1);
    }
    this.note(op, performance.now() - t0);
    if (res.ok) return (text ? JSON.parse(text) : {}) as T;
    let code = "?";
    try {
      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? "?";
    } catch {
      // Not our JSON envelope (wrangler's dev proxy answers in plain text): name it by its first words.
      code = `text: ${text.slice(0, 40)}`;
    }
    this.countError(`${op} ${res.status} ${code}`);
    if (res.status >= 500) this.serverErrors.push({ at: new Date().toISOString(), op, path, status: res.status, body: text.slice(0, 2_000) });
    return new ApiError(res.status, code, text.slice(0, 2_000));
  }
}

/** The nearest-rank percentile. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((sorted.length * p) / 100) - 1))] ?? 0;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
