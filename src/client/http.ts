/**
 * The client's transport: one `fetch` call per request with the key as a bearer token, JSON in and out,
 * errors as WinkyApiError, and retries for requests that may safely arrive twice.
 */
import { errorFromResponse, networkError, WinkyApiError } from "./errors";

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export type HttpOptions = {
  /** The server's base URL, e.g. `http://127.0.0.1:8787` (a trailing slash is ignored). */
  server: string;
  /** An API key (`wk_...`). */
  apiKey: string;
  /** Defaults to the global `fetch`. */
  fetch?: Fetch;
};

export type Query = Record<string, string | number | boolean | undefined>;

export type RequestOptions = {
  method?: string;
  query?: Query | undefined;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as it is (an archive, a part); a stream needs `duplex: "half"`, which this adds. */
  body?: BodyInit | ReadableStream<Uint8Array>;
  headers?: Record<string, string>;
};

// Waits before the second and third try of a request that failed on the way or with 502/503/504.
export const RETRY_WAITS_MS = [1_000, 4_000];

export class Http {
  readonly server: string;
  readonly apiKey: string;
  private readonly fetcher: Fetch;

  constructor(options: HttpOptions) {
    if (!/^https?:\/\//.test(options.server)) throw new TypeError(`the server URL must start with http:// or https:// (got "${options.server}")`);
    if (!options.apiKey) throw new TypeError("an API key is required");
    this.server = options.server.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
  }

  url(path: string, query?: Query): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.set(k, String(v));
    const s = q.toString();
    return `${this.server}${path}${s ? `?${s}` : ""}`;
  }

  /** The raw response of a request that succeeded; a WinkyApiError otherwise. */
  async send(path: string, opts: RequestOptions = {}): Promise<Response> {
    const method = opts.method ?? (opts.json === undefined && opts.body === undefined ? "GET" : "POST");
    const headers: Record<string, string> = { ...opts.headers, authorization: `Bearer ${this.apiKey}` };
    let body: RequestInit["body"] | undefined;
    if (opts.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(opts.json);
    } else if (opts.body !== undefined) {
      body = opts.body as RequestInit["body"];
    }
    const init = { method, headers, ...(body === undefined ? {} : { body }), ...(body instanceof ReadableStream ? { duplex: "half" } : {}) };
    const what = `${method} ${path}`;
    let res: Response;
    try {
      res = await this.fetcher(this.url(path, opts.query), init as RequestInit);
    } catch (e) {
      throw networkError(what, e);
    }
    if (!res.ok) throw errorFromResponse(res.status, await res.text(), what);
    return res;
  }

  /** The JSON answer of a request (undefined for an empty body, as a 204 has). */
  async json<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const text = await (await this.send(path, opts)).text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** A failure worth trying again: no answer, or a gateway that did not reach the Worker. */
export const isTransient = (e: unknown): boolean => e instanceof WinkyApiError && (e.status === 0 || e.status === 502 || e.status === 503 || e.status === 504);

/**
 * `send` again after a transient failure. Only for requests that may arrive twice: a part (the same
 * part number overwrites), completing (answers the same job), an upload (its tree is applied again,
 * in order, changing nothing).
 */
export async function withRetries<T>(send: () => Promise<T>, waits: readonly number[] = RETRY_WAITS_MS): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (e) {
      const wait = waits[attempt];
      if (!isTransient(e) || wait === undefined) throw e;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
