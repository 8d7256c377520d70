/** The CLI's exit codes, documented in its help and in docs/cli.md, and how an error maps to one. */
import { WinkyApiError } from "../src/client";

export const EXIT = {
  ok: 0,
  /** Anything else: the server refused the request, a job failed, the network is down. */
  failure: 1,
  /** The command line is wrong (an unknown command, a missing argument, a bad flag value). */
  usage: 2,
  /** No key, or the server refused it: 401, or 403 (the key lacks a scope or a project). */
  auth: 3,
  /** The project, job, session or key does not exist (404). */
  notFound: 4,
  /** A quota or rate limit is used up (402, 429). */
  quota: 5,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `exit codes:
  0  ok
  1  failure (the server refused the request, a job failed, the network is down)
  2  usage error (unknown command, missing argument, bad flag)
  3  auth error (no key, an invalid, revoked or expired key, or a missing scope: 401/403)
  4  not found (no such project, job, session or key: 404)
  5  quota or rate limit used up (402/429)`;

/** A mistake on the command line: exit 2 with its message. */
export class UsageError extends Error {}

/** No key to send: exit 3, as for a key the server refuses. */
export class MissingKeyError extends Error {
  constructor() {
    super("no API key: run `winky login`, set WINKY_API_KEY, or pass --key");
  }
}

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof MissingKeyError) return EXIT.auth;
  if (!(error instanceof WinkyApiError)) return EXIT.failure;
  if (error.status === 401 || error.status === 403) return EXIT.auth;
  if (error.status === 404) return EXIT.notFound;
  if (error.status === 402 || error.status === 429) return EXIT.quota;
  return EXIT.failure;
}
