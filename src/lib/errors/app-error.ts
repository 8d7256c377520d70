/** The one error type that crosses the edge: a status, a stable code and a message for humans. */
export type ErrorIssue = { path: string; message: string };

/** The one error envelope: HTTP bodies, NDJSON lines and WebSocket frames all carry `{ error: ErrorBody }`. */
export type ErrorBody = { code: string; message: string; issues?: ErrorIssue[]; requestId?: string };

export class AppError extends Error {
  readonly status: 400 | 401 | 403 | 404 | 402 | 409 | 410 | 411 | 413 | 415 | 422 | 426 | 429 | 500 | 502 | 503;
  readonly code: string;
  readonly issues: ErrorIssue[] | undefined;

  /** `cause` is kept for logs and stack traces; it never reaches a client. */
  constructor(status: AppError["status"], code: string, message: string, issues?: ErrorIssue[], options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AppError";
    this.status = status;
    this.code = code;
    this.issues = issues;
  }

  toJSON(requestId?: string): { error: ErrorBody } {
    return { error: errorBody(this.code, this.message, this.issues, requestId) };
  }
}

/** An envelope body, with the optional fields only when present. */
export function errorBody(code: string, message: string, issues?: ErrorIssue[], requestId?: string): ErrorBody {
  return { code, message, ...(issues ? { issues } : {}), ...(requestId ? { requestId } : {}) };
}

/** What a client may see of any error: an AppError as it is, anything else as a generic internal error. */
export function envelopeOf(err: unknown, requestId?: string): { error: ErrorBody } {
  return err instanceof AppError ? err.toJSON(requestId) : { error: errorBody("internal", "internal error", undefined, requestId) };
}

export const notFound = (what: string): AppError => new AppError(404, "not_found", `${what} not found`);

/**
 * An AppError carried as data across a Durable Object RPC call (an exception's class does not survive
 * the boundary): the object returns `caught(fn)`, the caller `unwrap`s it back into the AppError.
 */
export type ErrorResult = { error: { status: AppError["status"]; code: string; message: string } };

export async function caught<T>(fn: () => Promise<T>): Promise<T | ErrorResult> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof AppError) return { error: { status: e.status, code: e.code, message: e.message } };
    throw e;
  }
}

export function unwrap<T>(r: T): Exclude<T, ErrorResult> {
  if (r !== null && typeof r === "object" && "error" in r) {
    const e = (r as ErrorResult).error;
    throw new AppError(e.status, e.code, e.message);
  }
  return r as Exclude<T, ErrorResult>;
}
