/**
 * One command in the bubblewrap sandbox: the bwrap arguments for a phase (install: network only to the egress
 * proxy's socket, the workspace read-only but for the dependency directories; check: no network, the
 * dependencies read-only), and the run itself with its wall, output and memory limits and its process group
 * killed whole at the end, or as soon as the run is cancelled.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { commandCgroup, type MemoryCgroups } from "./memory-cgroup";
import type { CommandResult, RunLimits } from "./protocol";

/** A host path bound into the sandbox. */
export type Mount = { source: string; target: string; writable: boolean };

export type CommandSpec = {
  workspace: string;
  /** The install phase reads the project but writes only its mounts. */
  workspaceWritable: boolean;
  /** The run's private directory: passwd, group, hosts, and (install) the forwarder and the proxy's socket. */
  etc: string;
  uid: number;
  limits: RunLimits;
  mounts: Mount[];
  /** Extra environment, over the sandbox's own (PATH, HOME, CI). */
  env: Record<string, string>;
  /** Bound at /run/winky when given (the install phase's forwarder and socket). */
  runDir?: string;
  /** Network: none (check), or a namespace of its own whose only way out is `runDir`'s socket (install). */
  seccomp: Buffer | null;
  cgroups: MemoryCgroups | null;
  /** Names the command's cgroup (unique per command). */
  id: string;
  /** The program and its arguments, run under prlimit; `sh -c command` for a check. */
  argv: string[];
  /** The run's cancellation (its client went away, or a caller cancelled it): the command's group is killed at once. */
  signal?: AbortSignal;
};

// What a command sees of the host's /etc: enough to resolve libraries, users and localhost, nothing else
// (no host users' names, no machine configuration). Missing entries are skipped.
const HOST_ETC = ["ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "nsswitch.conf"];
// One file a command writes, at most (RLIMIT_FSIZE).
const FILE_BYTES = 64 * 1024 * 1024;
// A command's /tmp lives in the host's RAM: bounded so a run cannot fill it.
export const TMP_BYTES = 256 * 1024 * 1024;
// With the memory cgroup in force, RLIMIT_AS only stops absurd mappings: runtimes (V8, Go) reserve far more
// address space than they touch.
const AS_WITH_CGROUP_BYTES = 64 * 1024 * 1024 * 1024;
// The seccomp program reaches bwrap on this descriptor.
const SECCOMP_FD = 3;

export function sandboxArgs(spec: CommandSpec): string[] {
  const { limits } = spec;
  const basePath = "/usr/local/bin:/usr/bin:/bin";
  const env: Record<string, string> = { PATH: basePath, HOME: "/workspace", CI: "true", ...spec.env };
  return [
    `--reuid=${spec.uid}`,
    `--regid=${spec.uid}`,
    "--clear-groups",
    "bwrap",
    "--unshare-all",
    // Not "-try": --disable-userns needs a user namespace of its own, and nested ones are refused inside it.
    "--unshare-user",
    "--disable-userns",
    "--die-with-parent",
    "--new-session",
    ...(spec.seccomp ? ["--seccomp", String(SECCOMP_FD)] : []),
    "--ro-bind",
    "/usr",
    "/usr",
    "--symlink",
    "usr/bin",
    "/bin",
    "--symlink",
    "usr/sbin",
    "/sbin",
    "--symlink",
    "usr/lib",
    "/lib",
    "--symlink",
    "usr/lib64",
    "/lib64",
    "--dir",
    "/etc",
    ...HOST_ETC.flatMap((name) => ["--ro-bind-try", `/etc/${name}`, `/etc/${name}`]),
    ...["passwd", "group", "hosts"].flatMap((name) => ["--ro-bind", join(spec.etc, name), `/etc/${name}`]),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--size",
    String(TMP_BYTES),
    "--tmpfs",
    "/tmp",
    spec.workspaceWritable ? "--bind" : "--ro-bind",
    spec.workspace,
    "/workspace",
    ...spec.mounts.flatMap((m) => [m.writable ? "--bind" : "--ro-bind", m.source, m.target]),
    ...(spec.runDir ? ["--ro-bind", spec.runDir, "/run/winky"] : []),
    // The root and /etc (bwrap's own tmpfs) read-only: only the workspace, the mounts and /tmp are writable.
    "--remount-ro",
    "/",
    "--chdir",
    "/workspace",
    "--clearenv",
    ...Object.entries(env).flatMap(([k, v]) => ["--setenv", k, v]),
    "--",
    "/usr/bin/prlimit",
    `--cpu=${limits.cpuSeconds}`,
    `--as=${spec.cgroups ? AS_WITH_CGROUP_BYTES : limits.memoryMb * 1024 * 1024}`,
    `--nproc=${limits.processes}`,
    `--fsize=${FILE_BYTES}`,
    "--",
    ...spec.argv,
  ];
}

export async function runCommand(command: string, spec: CommandSpec, onOutput: (stream: "stdout" | "stderr", data: string) => void): Promise<CommandResult> {
  const { limits } = spec;
  const cgroup = spec.cgroups ? await commandCgroup(spec.cgroups, spec.id, limits.memoryMb * 1024 * 1024) : null;
  try {
    const result = await new Promise<CommandResult>((resolve) => {
      const started = Date.now();
      const args = sandboxArgs(spec);
      // The first process joins the cgroup before it becomes the sandbox (exec keeps the pid), so every
      // process of the command is charged to it from its first instruction.
      const [program, argv] = cgroup ? ["/bin/sh", ["-c", 'echo $$ > "$0" && exec "$@"', cgroup.procsFile, "setpriv", ...args]] : ["setpriv", args];
      // detached: the child leads a process group of its own, so the whole group is killed at once (below).
      const child: ChildProcess = spawn(program, argv, { stdio: ["ignore", "pipe", "pipe", spec.seccomp ? "pipe" : "ignore"], detached: true });
      if (spec.seccomp) {
        const fd = child.stdio[SECCOMP_FD];
        if (fd && "end" in fd) {
          fd.on("error", () => undefined);
          fd.end(spec.seccomp);
        }
      }
      const killGroup = (): void => {
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          // the group is already gone
        }
      };
      const out = { stdout: "", stderr: "" };
      let kept = 0;
      let truncated = false;
      let stoppedFor: CommandResult["stoppedFor"] = null;
      const stop = (why: NonNullable<CommandResult["stoppedFor"]>): void => {
        if (stoppedFor) return;
        stoppedFor = why;
        // The group, not only its leader: bwrap's PID namespace then takes every process the command started,
        // detached or not, with it.
        killGroup();
      };
      const wall = setTimeout(() => stop("wall-time"), limits.wallSeconds * 1000);
      const cancel = (): void => stop("cancelled");
      if (spec.signal?.aborted) cancel();
      else spec.signal?.addEventListener("abort", cancel, { once: true });
      for (const stream of ["stdout", "stderr"] as const) {
        child[stream]?.setEncoding("utf8");
        child[stream]?.on("data", (data: string) => {
          const room = limits.outputBytes - kept;
          const part = data.length > room ? data.slice(0, room) : data;
          if (part.length > 0) {
            kept += part.length;
            out[stream] += part;
            onOutput(stream, part);
          }
          if (part.length < data.length && !truncated) {
            truncated = true;
            out[stream] += "\n[output truncated by the sandbox]\n";
            stop("output");
          }
        });
      }
      child.on("close", (code, signal) => {
        clearTimeout(wall);
        spec.signal?.removeEventListener("abort", cancel);
        // Nothing outlives its command: whatever is left of the group goes too.
        killGroup();
        resolve({ command, exitCode: code, signal, durationMs: Date.now() - started, stdout: out.stdout, stderr: out.stderr, truncated, stoppedFor });
      });
    });
    if (!result.stoppedFor && result.exitCode !== 0 && (await cgroup?.oomKilled())) return { ...result, stoppedFor: "memory" };
    return result;
  } finally {
    await cgroup?.remove();
  }
}
