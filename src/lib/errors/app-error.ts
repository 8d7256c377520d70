/** The one error type that crosses the edge: a status, a stable code and a message for humans. */
export type ErrorIssue = { path: string; message: string };

export class AppError extends Error {
  readonly status: 400 | 401 | 403 | 404 | 409 | 411 | 413 | 415 | 422 | 426 | 429 | 500 | 502 | 503;
  readonly code: string;
  readonly issues: ErrorIssue[] | undefined;

  constructor(status: AppError["status"], code: string, message: string, issues?: ErrorIssue[]) {
    super(message);
    this.name = "AppError";
    this.status = status;
    this.code = code;
    this.issues = issues;
  }

  toJSON(): { error: { code: string; message: string; issues?: ErrorIssue[] } } {
    return { error: { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}) } };
  }
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
