/**
 * The Sandbox on Cloudflare Containers. Each run gets its own container (keyed by run id: its own VM),
 * files are written to /workspace (binary ones decoded from base64, executable ones 0755), and every
 * command runs as an unprivileged user under the same rlimits and wall-time and output limits as the
 * local runner. Internet is off. An install phase runs with install scripts off and only the configured
 * registries' hosts reachable, through the container's own outbound allow-list (`setAllowedHosts`,
 * enforced by the platform outside the box; the Worker exports `ContainerProxy` for it), emptied before
 * any check runs. No install cache: each container is fresh.
 */
import { getSandbox } from "@cloudflare/sandbox";
import { AppError } from "../errors";
import { RunCancelled } from "./run-status";
import { planLinks } from "./runner/links";
import { type InstallOutcome, MAX_ARTIFACTS, MAX_ARTIFACTS_TOTAL_BYTES } from "./runner/protocol";
import { DEFAULT_REGISTRIES, DEPENDENCY_ENV, installEnv, type Registries, registryHostnames } from "./runner/registries";
import { missingToolchainMessage, TOOLCHAIN_MISSING, toolchainsForAll } from "./runner/toolchains";
import { type ArtifactSink, type CommandResult, type RunEvent, type Sandbox, type SandboxOutcome, type SandboxRun, workspaceOf } from "./sandbox";

const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
// Links per shell command, to keep each command line well under ARG_MAX.
const LINKS_PER_EXEC = 200;

/** What `withInstallEgress` needs of a box: the platform's outbound allow-list (internet is off otherwise). */
export type EgressControl = { setAllowedHosts(hosts: string[]): Promise<void> };

/**
 * Runs the install phase with the registries' hosts reachable and nothing else (the container's own allow-list,
 * enforced outside it, with internet off), and empties the list before anything else runs, however the install ends.
 */
export async function withInstallEgress<T>(box: EgressControl, hosts: string[], install: () => Promise<T>): Promise<T> {
  await box.setAllowedHosts(hosts);
  try {
    return await install();
  } finally {
    await box.setAllowedHosts([]);
  }
}

export class ContainerSandbox implements Sandbox {
  constructor(
    private readonly namespace: NonNullable<Env["SANDBOX"]>,
    private readonly runId: string,
    private readonly registries: Registries = DEFAULT_REGISTRIES,
  ) {}

  async run(input: SandboxRun, onEvent: (e: RunEvent) => void, onArtifact?: ArtifactSink, signal?: AbortSignal): Promise<SandboxOutcome> {
    const box = getSandbox(this.namespace, this.runId);
    // A cancelled run's box goes at once, with every process in it; the call in progress then fails.
    const stop = (): void => void box.destroy().catch(() => undefined);
    signal?.addEventListener("abort", stop, { once: true });
    try {
      // One batch at a time: the Worker never holds more of the tree than that.
      const paths: string[] = [];
      const recorded: { path: string; target: string }[] = [];
      for await (const batch of workspaceOf(input)) {
        const dirs = [...new Set(batch.files.map((f) => (f.path.includes("/") ? `/workspace/${f.path.slice(0, f.path.lastIndexOf("/"))}` : "/workspace")))];
        if (dirs.length > 0) await box.exec(`mkdir -p ${dirs.map(quote).join(" ")}`);
        const executables: string[] = [];
        for (const f of batch.files) {
          // A binary file arrives in base64; the container's file API decodes it.
          await box.writeFile(`/workspace/${f.path}`, f.content, f.encoding === "base64" ? { encoding: "base64" } : {});
          if (f.executable) executables.push(f.path);
          paths.push(f.path);
        }
        if (executables.length > 0) await box.exec(`cd /workspace && chmod 0755 -- ${executables.map(quote).join(" ")}`);
        recorded.push(...batch.links);
      }
      // After the files, so no file is written through a link; planLinks keeps only links that stay inside.
      const links = planLinks(recorded, paths).write;
      for (let i = 0; i < links.length; i += LINKS_PER_EXEC) {
        const batch = links.slice(i, i + LINKS_PER_EXEC);
        const parents = [...new Set(batch.flatMap((l) => (l.path.includes("/") ? [l.path.slice(0, l.path.lastIndexOf("/"))] : [])))];
        // -T: a path that is already a directory is an error, never a place to put the link into.
        const made = await box.exec(
          [
            "cd /workspace",
            ...(parents.length ? [`mkdir -p -- ${parents.map(quote).join(" ")}`] : []),
            ...batch.map((l) => `ln -sT -- ${quote(l.target)} ${quote(l.path)}`),
          ].join(" && "),
        );
        if (made.exitCode !== 0) throw new AppError(502, "sandbox_failed", `could not recreate the project's links: ${made.stderr}`);
      }
      // -h: change the links themselves; following them fails on a dangling one.
      await box.exec("chown -R -h runner:runner /workspace && touch /tmp/.run-start");
      const needed = toolchainsForAll([...(input.install?.commands ?? []), ...input.commands]);
      const probes = await Promise.all(
        needed.map(async (n) => ({
          ...n,
          ok: (await box.exec(`cd /workspace && setpriv --reuid=60000 --regid=60000 --clear-groups sh -c ${quote(n.toolchain.probe)}`)).exitCode === 0,
        })),
      );
      const missing = probes.filter((p) => !p.ok);
      if (missing.length > 0) throw new AppError(422, TOOLCHAIN_MISSING, missingToolchainMessage(missing));
      let install: InstallOutcome | null = null;
      if (input.install) {
        // The registries' hosts only, through the container's allow-list (the runner's proxy has no place here);
        // scripts stay off unless the org allows them.
        const commands = input.install.commands;
        const env = Object.entries({ ...installEnvWithoutProxy(this.registries, input.install.allowScripts), ...DEPENDENCY_ENV, HOME: "/tmp" })
          .map(([k, v]) => `${k}=${quote(v)}`)
          .join(" ");
        const results = await withInstallEgress(box, registryHostnames(this.registries), async () => {
          const done: CommandResult[] = [];
          for (const [index, command] of commands.entries()) {
            const result = await this.exec(box, input, command, index, "install", env, onEvent);
            done.push(result);
            if (result.exitCode !== 0) break;
          }
          return done;
        });
        const ok = results.length === input.install.commands.length && results.every((r) => r.exitCode === 0);
        install = { cacheKey: "", cached: false, results, ok, refusedHosts: [] };
        if (!ok) {
          onEvent({ type: "done", results: [], changedFiles: [], install });
          return { results: [], changedFiles: [], install };
        }
      }
      const results: CommandResult[] = [];
      for (const [index, command] of input.commands.entries()) results.push(await this.exec(box, input, command, index, undefined, "", onEvent));
      // Regular files only (-type f never lists a link), sizes with them, at most MAX_ARTIFACTS; every process of
      // the run is dead by now, so nothing can swap a link in between the listing and the read.
      const listed = await box.exec(
        `cd /workspace && find . -type f -newer /tmp/.run-start -size -1024k -not -path './node_modules/*' -not -path './.venv/*' -not -path './.git/*' -printf '%s %P\\n' | head -n ${MAX_ARTIFACTS}`,
      );
      const changedFiles: { path: string; content: string }[] = [];
      let total = 0;
      for (const line of listed.stdout.split("\n").filter(Boolean)) {
        const size = Number(line.slice(0, line.indexOf(" ")));
        const path = line.slice(line.indexOf(" ") + 1);
        if (total + size > MAX_ARTIFACTS_TOTAL_BYTES) continue;
        total += size;
        const file = await box.readFile(`/workspace/${path}`);
        if (onArtifact) await onArtifact({ path, content: file.content });
        else changedFiles.push({ path, content: file.content });
      }
      onEvent({ type: "done", results, changedFiles, install });
      return { results, changedFiles, install };
    } catch (e) {
      if (signal?.aborted) throw signal.reason instanceof RunCancelled ? signal.reason : new RunCancelled("client_gone");
      throw e;
    } finally {
      signal?.removeEventListener("abort", stop);
      await box.destroy();
    }
  }

  async cancel(runId: string): Promise<void> {
    await getSandbox(this.namespace, runId).destroy();
  }

  /** One command as the run's user under its limits; output streamed and capped; every process of the user killed after. */
  private async exec(
    box: ReturnType<typeof getSandbox>,
    input: SandboxRun,
    command: string,
    index: number,
    phase: "install" | undefined,
    env: string,
    onEvent: (e: RunEvent) => void,
  ): Promise<CommandResult> {
    const l = input.limits;
    onEvent({ type: "start", index, command, phase });
    const abort = new AbortController();
    const out = { stdout: "", stderr: "" };
    let kept = 0;
    let truncated = false;
    const started = Date.now();
    const wrapped =
      `cd /workspace && ${env ? `env ${env} ` : ""}setpriv --reuid=60000 --regid=60000 --clear-groups ` +
      `prlimit --cpu=${l.cpuSeconds} --as=${l.memoryMb * 1024 * 1024} --nproc=${l.processes} --fsize=${64 * 1024 * 1024} -- ` +
      `timeout -s KILL ${l.wallSeconds} sh -c ${quote(command)}`;
    let exitCode: number | null = null;
    try {
      const r = await box.exec(wrapped, {
        stream: true,
        signal: abort.signal,
        onOutput: (stream, data) => {
          const part = data.slice(0, Math.max(0, l.outputBytes - kept));
          kept += part.length;
          out[stream] += part;
          if (part) onEvent({ type: "output", index, stream, data: part, phase });
          if (part.length < data.length && !truncated) {
            truncated = true;
            out[stream] += "\n[output truncated by the sandbox]\n";
            abort.abort();
          }
        },
      });
      exitCode = r.exitCode;
    } catch (e) {
      if (!truncated) throw e;
    }
    const result: CommandResult = {
      command,
      exitCode,
      signal: null,
      durationMs: Date.now() - started,
      stdout: out.stdout,
      stderr: out.stderr,
      truncated,
      stoppedFor: truncated ? "output" : exitCode === 137 && Date.now() - started >= l.wallSeconds * 1000 ? "wall-time" : null,
    };
    // timeout kills only its own process group; a child that left it (setsid, a daemon) would outlive the
    // command. Every process of the run's uid belongs to this run, so all of them go now.
    await box.exec("setpriv --reuid=60000 --regid=60000 --clear-groups kill -KILL -1 || true");
    onEvent({ type: "exit", index, result, phase });
    return result;
  }
}

/** The install environment in the container: the configured registries, no proxy (the container's allow-list applies). */
function installEnvWithoutProxy(registries: Registries, allowScripts: boolean): Record<string, string> {
  const env = installEnv(registries, "", allowScripts);
  for (const k of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "npm_config_proxy", "npm_config_https_proxy", "PIP_PROXY", "CARGO_HTTP_PROXY"])
    delete env[k];
  return env;
}
