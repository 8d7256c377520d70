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

const FileEntry = z.object({ path: z.string().min(1).max(1024), content: z.string() });
const LinkEntry = z.object({ path: z.string().min(1).max(1024), target: z.string().min(1).max(4096) });
const Commands = z.array(z.string().min(1).max(4096)).min(1).max(20);

/** A whole run in one JSON body (small inputs); large workspaces stream as `RunLine`s instead. */
export const RunRequest = z.object({
  files: z.array(FileEntry).max(100_000),
  /** Symbolic links to recreate after the files; the runner writes only those `planLinks` accepts. */
  links: z.array(LinkEntry).max(100_000).optional(),
  commands: Commands,
  limits: RunLimits.default(RunLimits.parse({})),
});
export type RunRequest = z.infer<typeof RunRequest>;

/**
 * One line of a streamed run request (`application/x-ndjson`): the `run` header first, then the workspace in
 * batches of files, the links after all files, and `end` with the number of files sent, so a body cut short
 * is refused rather than run on part of the tree.
 */
export const RunLine = z.discriminatedUnion("type", [
  z.object({ type: z.literal("run"), commands: Commands, limits: RunLimits.default(RunLimits.parse({})) }),
  z.object({ type: z.literal("files"), files: z.array(FileEntry).min(1).max(10_000) }),
  z.object({ type: z.literal("links"), links: z.array(LinkEntry).min(1).max(100_000) }),
  z.object({ type: z.literal("end"), files: z.number().int().min(0) }),
]);
export type RunLine = z.infer<typeof RunLine>;

export const CommandResult = z.object({
  command: z.string(),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  durationMs: z.number(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean(),
  /** Why the runner stopped the command, if it did: wall time or output size. */
  stoppedFor: z.enum(["wall-time", "output"]).nullable(),
});
export type CommandResult = z.infer<typeof CommandResult>;

/** The runner's errors, on HTTP and as a stream event, in the API's one envelope. */
export const RunnerError = z.object({ code: z.string(), message: z.string(), issues: z.array(z.object({ path: z.string(), message: z.string() })).optional() });

/** One line of the run's stream; the Worker parses every line it reads with this. */
export const RunEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("start"), index: z.number().int(), command: z.string() }),
  z.object({ type: z.literal("output"), index: z.number().int(), stream: z.enum(["stdout", "stderr"]), data: z.string() }),
  z.object({ type: z.literal("exit"), index: z.number().int(), result: CommandResult }),
  z.object({ type: z.literal("done"), results: z.array(CommandResult), changedFiles: z.array(z.object({ path: z.string(), content: z.string() })) }),
  z.object({ type: z.literal("error"), error: RunnerError }),
]);
export type RunEvent = z.infer<typeof RunEvent>;
