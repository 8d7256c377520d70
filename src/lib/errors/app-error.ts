/** The one error type that crosses the edge: a status, a stable code and a message for humans. */
export type ErrorIssue = { path: string; message: string };

export class AppError extends Error {
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 502 | 503;
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
