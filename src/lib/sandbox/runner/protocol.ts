/** The local runner's wire format: a run request, and the newline-delimited JSON events it streams back. */
import { z } from "zod";

export const RunLimits = z.object({
  /** CPU seconds per command (RLIMIT_CPU). */
  cpuSeconds: z.number().int().min(1).max(600).default(60),
  /** Address space per process, MiB (RLIMIT_AS). */
  memoryMb: z.number().int().min(64).max(16_384).default(2048),
  /** Processes the run may have at once (RLIMIT_NPROC on the run's own uid). */
  processes: z.number().int().min(4).max(512).default(128),
  /** stdout and stderr kept per command; past this the command is stopped. */
  outputBytes: z
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(1024 * 1024),
  /** Wall-clock seconds per command. */
  wallSeconds: z.number().int().min(1).max(1800).default(120),
});
export type RunLimits = z.infer<typeof RunLimits>;

export const RunRequest = z.object({
  files: z.array(z.object({ path: z.string().min(1).max(1024), content: z.string() })).max(100_000),
  /** Symbolic links to recreate after the files; the runner writes only those `planLinks` accepts. */
  links: z
    .array(z.object({ path: z.string().min(1).max(1024), target: z.string().min(1).max(4096) }))
    .max(100_000)
    .optional(),
  commands: z.array(z.string().min(1).max(4096)).min(1).max(20),
  limits: RunLimits.default(RunLimits.parse({})),
});
export type RunRequest = z.infer<typeof RunRequest>;

export type CommandResult = {
  command: string;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  stdout: string;
  stderr: string;
  truncated: boolean;
  /** Why the runner stopped the command, if it did: wall time or output size. */
  stoppedFor: "wall-time" | "output" | null;
};

export type RunEvent =
  | { type: "start"; index: number; command: string }
  | { type: "output"; index: number; stream: "stdout" | "stderr"; data: string }
  | { type: "exit"; index: number; result: CommandResult }
  | { type: "done"; results: CommandResult[]; changedFiles: { path: string; content: string }[] }
  | { type: "error"; message: string };
