/**
 * A run's status from its commands' results. A command that exits 0 but whose test runner collected no
 * test verified nothing, so a run with such a command is `no_tests`, never `passed`.
 */
import { AppError } from "../errors";
import type { CommandResult } from "./runner/protocol";

/** The statuses of a run whose commands all reported results. */
export const CHECKED_STATUSES = ["passed", "failed", "no_tests"] as const;
export type CheckedStatus = (typeof CHECKED_STATUSES)[number];
/**
 * Every status a run row can have: `running` until it ends, `error` when it could not report results,
 * `cancelled` when it was stopped before it ended (its row's `error` holds the `CancelReason`).
 */
export const RUN_STATUSES = ["running", ...CHECKED_STATUSES, "error", "cancelled"] as const;

/**
 * Why a run was stopped: `client_gone`, the HTTP client of a standalone run or replay disconnected (a run the
 * generation loop started for a session never is); `cancelled_by_caller`, `POST /api/sandbox/runs/:id/cancel`.
 */
export const CANCEL_REASONS = ["client_gone", "cancelled_by_caller"] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

/** The error code of a run stopped before it ended. */
export const RUN_CANCELLED = "run_cancelled";

/** A run stopped before it ended: thrown where it stops, and the abort reason of the signal that stops it. */
export class RunCancelled extends AppError {
  constructor(readonly reason: CancelReason) {
    super(409, RUN_CANCELLED, reason === "client_gone" ? "the run's client went away, so the run was stopped" : "the run was cancelled");
  }
}

/** The reason a run was stopped, when `e` (a thrown error or an abort signal's reason) says it was. */
export function cancelReasonOf(e: unknown): CancelReason | null {
  return e instanceof RunCancelled ? e.reason : null;
}

// Exit codes that mean "collected nothing" rather than "a test failed", with the text that says so.
// pytest: 5 with "no tests ran"; unittest since Python 3.12: 5 with "NO TESTS RAN"; jest and vitest: 1 with "No tests found" /
// "No test files found" (unless --passWithNoTests, which exits 0 with the same words).
const NOTHING_COLLECTED_EXITS: { code: number; says: RegExp }[] = [
  { code: 5, says: /no tests ran|Ran 0 tests/i },
  { code: 1, says: /No tests found|No test files found/ },
];

// Summaries that say a runner ran zero tests, whatever it exited with.
const ZERO_TESTS: RegExp[] = [
  /^Ran 0 tests in /m, // unittest
  /^=*\s*no tests ran in /m, // pytest
  /\bcollected 0 items\b/, // pytest, verbose
  /No tests found|No test files found/, // jest, vitest
  /^\s*0 passing\b/m, // mocha
  /^[#ℹ] tests 0$/m, // node --test (TAP and spec reporters)
];
// Runners whose output lists a count per unit (crate, package): zero only if every unit ran none.
const go = (out: string): boolean =>
  /\[no test files\]|\[no tests to run\]|matched no packages/.test(out) && !/^(ok|FAIL|---)\s/m.test(out.replace(/^ok\s.*\[no tests to run\]$/gm, ""));
function cargo(out: string): boolean {
  const counts = [...out.matchAll(/^running (\d+) tests?$/gm)].map((m) => Number(m[1]));
  return counts.length > 0 && counts.every((n) => n === 0);
}

/** Whether the command's test runner collected no test (judged from its exit code and its own summary lines). */
export function ranNoTests(result: Pick<CommandResult, "exitCode" | "stdout" | "stderr">): boolean {
  const out = `${result.stdout}\n${result.stderr}`;
  if (result.exitCode !== 0) return NOTHING_COLLECTED_EXITS.some((e) => e.code === result.exitCode && e.says.test(out));
  return ZERO_TESTS.some((r) => r.test(out)) || go(out) || cargo(out);
}

/** `failed` if a command failed, else `no_tests` if a command's runner collected no test, else `passed`. */
export function runStatus(results: readonly Pick<CommandResult, "exitCode" | "stdout" | "stderr">[]): CheckedStatus {
  const noTests = results.map(ranNoTests);
  if (results.some((r, i) => r.exitCode !== 0 && !noTests[i])) return "failed";
  return noTests.some(Boolean) ? "no_tests" : "passed";
}
