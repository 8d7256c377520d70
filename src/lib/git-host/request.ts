/**
 * One request to a GitHub-compatible REST API: URLs built so no input can leave the intended endpoint,
 * and failures classified (retryable, rate-limited with the wait the host asks for) before any message text.
 */
import { DEADLINES } from "../resilience/deadline";

export type GitHost = { baseUrl: string; token?: string | undefined; fetch?: typeof fetch };

export class GitHostError extends Error {
  override name = "GitHostError";
  constructor(
    message: string,
    readonly status: number,
    readonly retryable: boolean,
    /** Set when the host rate-limited the request: seconds to wait before trying again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

// `owner/name` as GitHub allows them; "." and ".." are excluded separately, since URL parsing would
// resolve them (even percent-encoded as %2e) and leave /repos/.
const REPO = /^[\w.-]+\/[\w.-]+$/;

/** Whether `repo` is an `owner/name` that is safe to put in a URL path. */
export function isRepoName(repo: string): boolean {
  return REPO.test(repo) && repo.split("/").every((s) => s !== "." && s !== "..");
}

/**
 * The URL of `/repos/{repo}/{endpoint}/{segments...}` with each segment percent-encoded. A segment
 * that is empty, "." or ".." is refused: encoding does not stop URL parsing from resolving dot segments.
 */
export function repoUrl(host: GitHost, repo: string, endpoint: "contents" | "compare", segments: string[], query: Record<string, string>): string {
  if (!isRepoName(repo)) throw new GitHostError(`"${repo}" is not an owner/name repository`, 400, false);
  for (const s of segments) {
    if (s === "" || s === "." || s === "..") throw new GitHostError(`path segment "${s}" would leave the ${endpoint} endpoint`, 400, false);
  }
  const path = [...repo.split("/"), endpoint, ...segments].map(encodeURIComponent).join("/");
  const url = new URL(`${host.baseUrl.replace(/\/+$/, "")}/repos/${path}`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url.toString();
}

/** GETs `url` with GitHub's headers; a 404 answers null, any other failure throws a classified GitHostError. */
export async function getFromHost(host: GitHost, url: string, accept: string, what: string): Promise<Response | null> {
  let res: Response;
  try {
    res = await (host.fetch ?? fetch)(url, {
      headers: {
        accept,
        "user-agent": "winky-context",
        "x-github-api-version": "2022-11-28",
        ...(host.token ? { authorization: `Bearer ${host.token}` } : {}),
      },
      // The deadline covers the body too: a host that stops sending mid-file fails the read, not the queue.
      signal: AbortSignal.timeout(DEADLINES.gitHost),
    });
  } catch (e) {
    const timedOut = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
    throw new GitHostError(
      timedOut ? `git host did not answer ${what} within ${DEADLINES.gitHost} ms` : `git host unreachable for ${what}: ${String(e)}`,
      0,
      true,
    );
  }
  if (res.ok) return res;
  await res.body?.cancel();
  if (res.status === 404) return null;
  const wait = rateLimitWait(res, Date.now());
  if (wait !== undefined) throw new GitHostError(`git host rate-limited ${what}; retry in ${wait} s`, res.status, true, wait);
  throw new GitHostError(`git host answered ${res.status} for ${what}`, res.status, res.status === 429 || res.status >= 500);
}

// GitHub asks clients hitting a secondary rate limit without a retry-after to wait at least a minute.
const DEFAULT_RATE_LIMIT_WAIT = 60;

/**
 * Seconds to wait when a response is a rate limit: 403/429 with `retry-after` (seconds or an HTTP date),
 * or with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` (epoch seconds); a bare 429 waits a minute.
 * Undefined when the response is not a rate limit (a 403 without these headers is a permission error).
 */
export function rateLimitWait(res: { status: number; headers: Headers }, nowMs: number): number | undefined {
  if (res.status !== 403 && res.status !== 429) return undefined;
  const retryAfter = res.headers.get("retry-after")?.trim();
  if (retryAfter) {
    const seconds = /^\d+$/.test(retryAfter) ? Number(retryAfter) : (Date.parse(retryAfter) - nowMs) / 1000;
    if (Number.isFinite(seconds)) return Math.max(1, Math.ceil(seconds));
  }
  const reset = Number(res.headers.get("x-ratelimit-reset"));
  if (res.headers.get("x-ratelimit-remaining")?.trim() === "0" && Number.isFinite(reset) && reset > 0) {
    return Math.max(1, Math.ceil(reset - nowMs / 1000));
  }
  return res.status === 429 ? DEFAULT_RATE_LIMIT_WAIT : undefined;
}
