/** Sandbox runs: requests and responses of /api/sandbox/runs. */
import { z } from "zod";
import { Change } from "../sandbox/apply-change";
import { CANCEL_REASONS, CHECKED_STATUSES, RUN_STATUSES } from "../sandbox/run-status";
import { CommandResult, InstallOutcome, RunLimits } from "../sandbox/runner/protocol";
import { IsoTime } from "./common";

export { RunEvent } from "../sandbox/runner/protocol";

export const StartRun = z.object({
  projectId: z.string().min(1).max(64),
  change: Change.default({ files: [], deletions: [] }),
  commands: z.array(z.string().min(1).max(4096)).min(1).max(20).optional(),
  limits: RunLimits.partial().default({}),
});

export const RunSummary = z
  .object({
    runId: z.string(),
    /** `no_tests`: every command exited 0 but a test runner collected no test, so nothing was verified. */
    status: z.enum(CHECKED_STATUSES),
    results: z.array(CommandResult),
    /** The install phase (null: the project has no lockfile and no install commands). A failed install fails the run; no check runs. */
    install: InstallOutcome.nullable(),
    artifacts: z.array(z.object({ path: z.string(), key: z.string() })),
  })
  .meta({ id: "RunSummary" });

export const ReplaySummary = RunSummary.extend({
  replayOf: z.string(),
  sameOutcome: z.boolean(),
  differences: z.array(z.object({ command: z.string(), before: z.number().nullable(), now: z.number().nullable() })),
});

export const RunView = z.object({
  runId: z.string(),
  projectId: z.string(),
  status: z.enum(RUN_STATUSES).describe("`cancelled`: stopped before it ended; `error` then holds why (client_gone or cancelled_by_caller)"),
  replayOf: z.string().nullable(),
  request: z.unknown().describe("the run's request as stored"),
  results: z.unknown().nullable(),
  install: z.unknown().nullable().describe("the install phase's outcome, when the run had one"),
  artifacts: z.array(z.unknown()),
  error: z.string().nullable(),
  createdAt: IsoTime,
  finishedAt: IsoTime.nullable(),
});

/** `POST /api/sandbox/runs/:runId/cancel`: the run is recorded cancelled and its commands are being stopped. */
export const CancelledRun = z.object({ runId: z.string(), status: z.literal("cancelled"), reason: z.enum(CANCEL_REASONS) });
