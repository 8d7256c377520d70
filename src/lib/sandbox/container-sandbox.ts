/**
 * The Sandbox on Cloudflare Containers. Each run gets its own container (keyed by run id), files are
 * written to /workspace, and every command runs as an unprivileged user under the same rlimits and
 * wall-time and output limits as the local runner; the container has no internet access.
 */
import { getSandbox } from "@cloudflare/sandbox";
import { AppError } from "../errors";
import { planLinks } from "./runner/links";
import { missingToolchainMessage, TOOLCHAIN_MISSING, toolchainsForAll } from "./runner/toolchains";
import { type CommandResult, type RunEvent, type Sandbox, type SandboxOutcome, type SandboxRun, workspaceOf } from "./sandbox";

const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
// Links per shell command, to keep each command line well under ARG_MAX.
const LINKS_PER_EXEC = 200;

export class ContainerSandbox implements Sandbox {
  constructor(
    private readonly namespace: NonNullable<Env["SANDBOX"]>,
    private readonly runId: string,
  ) {}

  async run(input: SandboxRun, onEvent: (e: RunEvent) => void): Promise<SandboxOutcome> {
    const box = getSandbox(this.namespace, this.runId);
    try {
      // One batch at a time: the Worker never holds more of the tree than that.
      const paths: string[] = [];
      const recorded: { path: string; target: string }[] = [];
      for await (const batch of workspaceOf(input)) {
        const dirs = [...new Set(batch.files.map((f) => (f.path.includes("/") ? `/workspace/${f.path.slice(0, f.path.lastIndexOf("/"))}` : "/workspace")))];
        if (dirs.length > 0) await box.exec(`mkdir -p ${dirs.map(quote).join(" ")}`);
        for (const f of batch.files) {
          await box.writeFile(`/workspace/${f.path}`, f.content);
          paths.push(f.path);
        }
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
      const needed = toolchainsForAll(input.commands);
      const probes = await Promise.all(
        needed.map(async (n) => ({
          ...n,
          ok: (await box.exec(`cd /workspace && setpriv --reuid=60000 --regid=60000 --clear-groups sh -c ${quote(n.toolchain.probe)}`)).exitCode === 0,
        })),
      );
      const missing = probes.filter((p) => !p.ok);
      if (missing.length > 0) throw new AppError(422, TOOLCHAIN_MISSING, missingToolchainMessage(missing));
      const results: CommandResult[] = [];
      const l = input.limits;
      for (const [index, command] of input.commands.entries()) {
        onEvent({ type: "start", index, command });
        const abort = new AbortController();
        const out = { stdout: "", stderr: "" };
        let kept = 0;
        let truncated = false;
        const started = Date.now();
        const wrapped =
          `cd /workspace && setpriv --reuid=60000 --regid=60000 --clear-groups ` +
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
              if (part) onEvent({ type: "output", index, stream, data: part });
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
        results.push(result);
        onEvent({ type: "exit", index, result });
      }
      const listed = await box.exec("cd /workspace && find . -type f -newer /tmp/.run-start -size -1024k -not -path './node_modules/*' -not -path './.git/*'");
      const changedFiles: { path: string; content: string }[] = [];
      for (const p of listed.stdout.split("\n").filter(Boolean)) {
        const path = p.replace(/^\.\//, "");
        const file = await box.readFile(`/workspace/${path}`);
        changedFiles.push({ path, content: file.content });
      }
      onEvent({ type: "done", results, changedFiles });
      return { results, changedFiles };
    } finally {
      await box.destroy();
    }
  }
}
