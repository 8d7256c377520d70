/** The client's one error: the server's error envelope (`{ error: { code, message, issues?, requestId? } }`) with the HTTP status. */
import type { ErrorBody, ErrorIssue } from "../lib/errors";

export type { ErrorBody, ErrorIssue };

export class WinkyApiError extends Error {
  /** The HTTP status; 0 when the server never answered (a network failure, a refused connection). */
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;
  readonly issues: ErrorIssue[] | undefined;

  constructor(status: number, body: ErrorBody, options?: { cause?: unknown }) {
    super(body.message, options);
    this.name = "WinkyApiError";
    this.status = status;
    this.code = body.code;
    this.requestId = body.requestId;
    this.issues = body.issues;
  }

  /** The envelope as the server sent it (or as the client made it for a failure without an answer). */
  toJSON(): { error: ErrorBody } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.issues ? { issues: this.issues } : {}),
        ...(this.requestId ? { requestId: this.requestId } : {}),
      },
    };
  }
}

/** `value` when it is an error envelope's body. */
export function envelopeBody(value: unknown): ErrorBody | undefined {
  if (value === null || typeof value !== "object" || !("error" in value)) return undefined;
  const e = (value as { error: unknown }).error;
  if (e === null || typeof e !== "object") return undefined;
  const { code, message } = e as { code?: unknown; message?: unknown };
  if (typeof code !== "string" || typeof message !== "string") return undefined;
  return e as ErrorBody;
}

/** The error a response that is not ok stands for: its envelope, or a generic one when the body is not an envelope (a proxy's page). */
export function errorFromResponse(status: number, text: string, what: string): WinkyApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return new WinkyApiError(status, envelopeBody(parsed) ?? { code: `http_${status}`, message: `${what} answered ${status}: ${text.slice(0, 500)}` });
}

/** A request that never got an answer. */
export function networkError(what: string, cause: unknown): WinkyApiError {
  return new WinkyApiError(0, { code: "network_error", message: `${what} failed: ${cause instanceof Error ? cause.message : String(cause)}` }, { cause });
}
