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
  /** The workspace's size, MiB: a run that writes more gets ENOSPC (where the runner can mount a bounded volume). */
  workspaceMb: z.number().int().min(64).max(16_384).default(2048),
});
export type RunLimits = z.infer<typeof RunLimits>;

const FileEntry = z.object({
  path: z.string().min(1).max(1024),
  /** Text, or a binary file's bytes in base64 when `encoding` is "base64". */
  content: z.string(),
  encoding: z.literal("base64").optional(),
  /** Written 0755 instead of 0644. */
  executable: z.boolean().optional(),
});
const LinkEntry = z.object({ path: z.string().min(1).max(1024), target: z.string().min(1).max(4096) });
const Commands = z.array(z.string().min(1).max(4096)).min(1).max(20);
/** A run's id as the API mints it (`run_…`): letters, digits, `_` and `-` only, since it names a runner URL. */
export const RunId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/**
 * The run's install phase: commands that fetch the dependencies the lockfiles pin, through the runner's egress
 * proxy (only the registries the runner's configuration names), writing only the dependency directories.
 * Their output is cached under a key of the lockfiles' hashes, the commands and `scope`, and later runs with
 * the same key mount it read-only instead of installing again.
 */
export const Install = z.object({
  commands: z.array(z.string().min(1).max(4096)).min(1).max(10),
  /** The lockfiles (workspace paths) whose content keys the cache; the runner hashes them itself. */
  lockfiles: z.array(z.string().min(1).max(1024)).max(50),
  /** Whether package install scripts may run (npm's lifecycle scripts, pip building from source); off unless the org allows them. */
  allowScripts: z.boolean().default(false),
  /** Who may share the cache entry (the org): one org's install never lands in another's runs. */
  scope: z.string().min(1).max(128),
});
export type Install = z.infer<typeof Install>;

/** A whole run in one JSON body (small inputs); large workspaces stream as `RunLine`s instead. */
export const RunRequest = z.object({
  files: z.array(FileEntry).max(100_000),
  /** Symbolic links to recreate after the files; the runner writes only those `planLinks` accepts. */
  links: z.array(LinkEntry).max(100_000).optional(),
  commands: Commands,
  install: Install.optional(),
  limits: RunLimits.default(RunLimits.parse({})),
});
export type RunRequest = z.infer<typeof RunRequest>;

/**
 * One line of a streamed run request (`application/x-ndjson`): the `run` header first, then the workspace in
 * batches of files, the links after all files, and `end` with the number of files sent, so a body cut short
 * is refused rather than run on part of the tree.
 */
export const RunLine = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("run"),
    /** The API's run id: the runner lists its active runs by it and cancels one by it (`DELETE /runs/:runId`). */
    runId: RunId.optional(),
    commands: Commands,
    install: Install.optional(),
    limits: RunLimits.default(RunLimits.parse({})),
  }),
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
  /**
   * Why the runner stopped the command, if it did: wall time, output size, the memory cap (the cgroup's OOM
   * kill), or the run's cancellation (its client went away, or a caller cancelled it).
   */
  stoppedFor: z.enum(["wall-time", "output", "memory", "cancelled"]).nullable(),
});
export type CommandResult = z.infer<typeof CommandResult>;

/** How the install phase went: installed now or taken from the cache, and the hosts the egress proxy refused. */
export const InstallOutcome = z.object({
  cacheKey: z.string(),
  cached: z.boolean(),
  /** The install commands' results (none when the cache had the key). */
  results: z.array(CommandResult),
  /** Every command exited 0 (or the cache had it): the checks ran on the installed dependencies. */
  ok: z.boolean(),
  /** Hosts the install tried to reach that are not among the configured registries (each refused). */
  refusedHosts: z.array(z.string()),
});
export type InstallOutcome = z.infer<typeof InstallOutcome>;

const Phase = z.enum(["install", "check"]).optional();

/** Artifacts a run returns at most, by count and in all (each at most 1 MiB): a run that writes thousands of files gets the first ones. */
export const MAX_ARTIFACTS = 256;
export const MAX_ARTIFACTS_TOTAL_BYTES = 16 * 1024 * 1024;

/** The runner's refusal (413) of a project larger than the run's `workspaceMb`; the API answers it as 413 too. */
export const WORKSPACE_TOO_LARGE = "workspace_too_large";

/** The runner's errors, on HTTP and as a stream event, in the API's one envelope. */
export const RunnerError = z.object({ code: z.string(), message: z.string(), issues: z.array(z.object({ path: z.string(), message: z.string() })).optional() });

/** One line of the run's stream; the Worker parses every line it reads with this. */
export const RunEvent = z.discriminatedUnion("type", [
  // `phase` is "install" for the install commands (their own indices), absent for the checks.
  z.object({ type: z.literal("start"), index: z.number().int(), command: z.string(), phase: Phase }),
  z.object({ type: z.literal("output"), index: z.number().int(), stream: z.enum(["stdout", "stderr"]), data: z.string(), phase: Phase }),
  z.object({ type: z.literal("exit"), index: z.number().int(), result: CommandResult, phase: Phase }),
  // One file the run wrote or changed, sent after the last command and before `done` (a line per file, never all in one).
  z.object({ type: z.literal("artifact"), path: z.string(), content: z.string() }),
  z.object({
    type: z.literal("done"),
    results: z.array(CommandResult),
    changedFiles: z.array(z.object({ path: z.string(), content: z.string() })),
    install: InstallOutcome.nullable().optional(),
  }),
  z.object({ type: z.literal("error"), error: RunnerError }),
]);
export type RunEvent = z.infer<typeof RunEvent>;
