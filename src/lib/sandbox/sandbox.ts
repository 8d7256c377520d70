/**
 * One Sandbox interface. Local: the bubblewrap runner (`runner/server.ts`) reached over HTTP with a
 * shared secret. Production: Cloudflare Containers (`container-sandbox.ts`).
 */
import { AppError } from "../errors";
import { LineBuffer } from "../streams/line-buffer";
import { ContainerSandbox } from "./container-sandbox";
import { RUN_CANCELLED, RunCancelled } from "./run-status";
import { type CommandResult, type Install, type InstallOutcome, RunEvent, type RunLimits, type RunLine, WORKSPACE_TOO_LARGE } from "./runner/protocol";
import { parseRegistries } from "./runner/registries";
import { TOOLCHAIN_MISSING } from "./runner/toolchains";
import { inlineBatches, type WorkspaceBatch, type WorkspaceFile, type WorkspaceLink } from "./workspace";

export type { CommandResult, Install, InstallOutcome, RunEvent, RunLimits };

// Writing the workspace and starting the box, on top of the commands' own wall limits.
const RUN_SETUP_SECONDS = 60;

export type SandboxRun = {
  /** The API's run id, by which the sandbox can cancel the run from another request. */
  runId?: string;
  /** A small workspace given whole (tests, in-memory trees); a run from a snapshot streams `workspace` instead. */
  files?: WorkspaceFile[];
  /** Symbolic links as recorded in the catalog; each sandbox writes only those that cannot leave its workspace. */
  links?: WorkspaceLink[];
  /** The workspace in bounded batches, read as the sandbox writes them (`snapshot-batches.ts`). */
  workspace?: () => AsyncIterable<WorkspaceBatch>;
  commands: string[];
  /** The install phase before the checks (dependencies from the lockfiles), when the run has one. */
  install?: Install;
  limits: RunLimits;
};

/** The run's workspace as batches, whichever way it was given. */
export function workspaceOf(input: SandboxRun): AsyncIterable<WorkspaceBatch> {
  return input.workspace ? input.workspace() : inlineBatches(input.files ?? [], input.links ?? []);
}

/**
 * The request body the local runner reads (`RunLine`s as NDJSON), pulled one batch at a time: the next batch
 * is read from R2 only when the runner has taken the previous one.
 */
export function runRequestBody(input: SandboxRun): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const batches = workspaceOf(input)[Symbol.asyncIterator]();
  let sent = 0;
  let ended = false;
  const line = (o: RunLine): Uint8Array => encoder.encode(`${JSON.stringify(o)}\n`);
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(
          line({
            type: "run",
            ...(input.runId ? { runId: input.runId } : {}),
            commands: input.commands,
            ...(input.install ? { install: input.install } : {}),
            limits: input.limits,
          }),
        );
      },
      async pull(controller) {
        if (ended) return;
        const next = await batches.next();
        if (next.done) {
          ended = true;
          controller.enqueue(line({ type: "end", files: sent }));
          controller.close();
          return;
        }
        if (next.value.files.length > 0) controller.enqueue(line({ type: "files", files: next.value.files }));
        if (next.value.links.length > 0) controller.enqueue(line({ type: "links", links: next.value.links }));
        sent += next.value.files.length;
      },
      async cancel() {
        await batches.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}
export type SandboxOutcome = { results: CommandResult[]; changedFiles: { path: string; content: string }[]; install?: InstallOutcome | null };

/** Takes one artifact as the sandbox reads it (executeRun stores it in R2 at once); without it they are collected in the outcome. */
export type ArtifactSink = (file: { path: string; content: string }) => Promise<void>;

export interface Sandbox {
  /**
   * Runs the input; `signal` aborts it (the request to the runner is aborted and the runner kills the commands,
   * or the container is destroyed) and the run throws `RunCancelled` with the signal's reason.
   */
  run(input: SandboxRun, onEvent: (e: RunEvent) => void, onArtifact?: ArtifactSink, signal?: AbortSignal): Promise<SandboxOutcome>;
  /** Stops the run `runId` that another request is running (`POST /api/sandbox/runs/:runId/cancel`). */
  cancel(runId: string): Promise<void>;
}

/** The local runner over HTTP; events arrive as NDJSON while the commands run. */
export class LocalRunnerSandbox implements Sandbox {
  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly setupSeconds = RUN_SETUP_SECONDS,
  ) {}

  async run(input: SandboxRun, onEvent: (e: RunEvent) => void, onArtifact?: ArtifactSink, cancel?: AbortSignal): Promise<SandboxOutcome> {
    let res: Response;
    // The whole run, body included, has a deadline: every command's wall limit plus time to set up, so a
    // runner that hangs or dies mid-run ends the run as failed instead of leaving it running forever.
    const commandCount = input.commands.length + (input.install?.commands.length ?? 0);
    const deadlineMs = (commandCount * input.limits.wallSeconds + this.setupSeconds) * 1000;
    const deadline = AbortSignal.timeout(deadlineMs);
    // Aborting the request closes the connection, and the runner kills the run's commands when it sees that.
    const signal = cancel ? AbortSignal.any([deadline, cancel]) : deadline;
    const cancelled = (): RunCancelled | null =>
      cancel?.aborted ? (cancel.reason instanceof RunCancelled ? cancel.reason : new RunCancelled("client_gone")) : null;
    try {
      res = await fetch(`${this.url.replace(/\/+$/, "")}/runs`, {
        method: "POST",
        headers: { authorization: `Bearer ${this.secret}`, "content-type": "application/x-ndjson" },
        body: runRequestBody(input),
        signal,
      });
    } catch (e) {
      const stopped = cancelled();
      if (stopped) throw stopped;
      console.error(JSON.stringify({ sandbox: "local runner unreachable", url: this.url, error: String(e) }));
      if (signal.aborted) throw new AppError(502, "sandbox_failed", `the sandbox run did not start within ${deadlineMs / 1000} s`);
      throw new AppError(503, "sandbox_unavailable", "the sandbox runner cannot be reached");
    }
    if (!res.ok || !res.body) {
      const body = (await res.text()).slice(0, 2000);
      console.error(JSON.stringify({ sandbox: "local runner refused the run", status: res.status, body }));
      // The project's own size against the run's limit: the caller's to fix, not a broken sandbox.
      if (res.status === 413 && body.includes(`"${WORKSPACE_TOO_LARGE}"`))
        throw new AppError(
          413,
          WORKSPACE_TOO_LARGE,
          `the project does not fit in the run's workspace of ${input.limits.workspaceMb} MiB (raise limits.workspaceMb)`,
        );
      throw new AppError(res.status === 503 ? 503 : 502, "sandbox_failed", `the sandbox runner answered ${res.status}`);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const lines = new LineBuffer();
    let outcome: SandboxOutcome | undefined;
    const collected: { path: string; content: string }[] = [];
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (e) {
        const stopped = cancelled();
        if (stopped) throw stopped;
        const timedOut = signal.aborted;
        console.error(JSON.stringify({ sandbox: timedOut ? "run past its deadline" : "runner connection lost", error: String(e) }));
        throw new AppError(
          502,
          "sandbox_failed",
          timedOut ? `the sandbox run did not finish within ${deadlineMs / 1000} s` : "the sandbox runner stopped in the middle of the run",
        );
      }
      const { done, value } = chunk;
      for (const line of value ? lines.push(value) : []) {
        const event = parseEvent(line);
        if (event.type === "artifact") {
          // Not passed on: a client streaming the run sees artifacts in the summary, by key, not their content.
          const file = { path: event.path, content: event.content };
          if (onArtifact) await onArtifact(file);
          else collected.push(file);
          continue;
        }
        onEvent(event);
        if (event.type === "done") outcome = { results: event.results, changedFiles: [...collected, ...event.changedFiles], install: event.install ?? null };
        if (event.type === "error") throw runnerError(event.error);
      }
      if (done) break;
    }
    if (!outcome) throw new AppError(502, "sandbox_failed", "the sandbox runner ended without a result");
    return outcome;
  }

  async cancel(runId: string): Promise<void> {
    const res = await fetch(`${this.url.replace(/\/+$/, "")}/runs/${encodeURIComponent(runId)}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${this.secret}` },
    });
    await res.body?.cancel();
    // 404: the runner has no such run going (it ended, or it never reached the runner); nothing to stop.
    if (!res.ok && res.status !== 404) throw new AppError(502, "sandbox_failed", `the sandbox runner answered ${res.status} to the cancellation`);
  }
}

/** The sandbox the bindings allow: Containers in production, else the local runner when configured. */
export function sandboxFor(
  env: { SANDBOX?: NonNullable<Env["SANDBOX"]>; SANDBOX_REGISTRIES?: string; SANDBOX_RUNNER_URL?: string; SANDBOX_RUNNER_SECRET?: string },
  runId: string,
): Sandbox {
  if (env.SANDBOX) return new ContainerSandbox(env.SANDBOX, runId, parseRegistries(env.SANDBOX_REGISTRIES));
  if (env.SANDBOX_RUNNER_URL && env.SANDBOX_RUNNER_SECRET) return new LocalRunnerSandbox(env.SANDBOX_RUNNER_URL, env.SANDBOX_RUNNER_SECRET);
  throw new AppError(
    503,
    "sandbox_unavailable",
    "no sandbox is configured (set SANDBOX_RUNNER_URL and SANDBOX_RUNNER_SECRET, or deploy the container sandbox)",
  );
}

/** The runner's refusal as the API's error: a missing toolchain is the project's checks' need, not a broken sandbox. */
function runnerError(error: { code: string; message: string }): AppError {
  if (error.code === TOOLCHAIN_MISSING) return new AppError(422, TOOLCHAIN_MISSING, error.message);
  // Cancelled from another request (a run whose client is gone reads no more events).
  if (error.code === RUN_CANCELLED) return new RunCancelled("cancelled_by_caller");
  return new AppError(502, "sandbox_failed", error.message);
}

/** One line of the runner's stream, checked: a line that is not an event fails the run, it is never guessed at. */
function parseEvent(line: string): RunEvent {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new AppError(502, "sandbox_failed", "the sandbox runner sent a line that is not JSON");
  }
  const parsed = RunEvent.safeParse(json);
  if (!parsed.success) throw new AppError(502, "sandbox_failed", "the sandbox runner sent an event of an unknown shape");
  return parsed.data;
}
