/**
 * The local sandbox runner: a Node HTTP server that `npm run dev` starts beside wrangler. Each run gets
 * a fresh workspace and a uid of its own; each command runs under bubblewrap (no network, read-only
 * system, only the workspace writable, its own PID namespace) with rlimits on CPU time, address space,
 * processes and file size, and the runner enforces wall time and output size. Requests carry the shared
 * secret. Events stream back as NDJSON while the commands run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, timingSafeEqual } from "node:crypto";
import { constants } from "node:fs";
import { chmod, chown, type FileHandle, lchown, lstat, mkdir, mkdtemp, open, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { dirname, join, relative } from "node:path";
import { safePath } from "../../archive";
import { planLinks } from "./links";
import type { CommandResult, RunEvent, RunLimits, RunLine } from "./protocol";
import { RequestInvalid, requestLines } from "./request-lines";
import { missingToolchainMessage, TOOLCHAIN_MISSING, toolchainsForAll } from "./toolchains";

export type RunnerOptions = { port: number; secret: string; root: string; firstUid?: number; slots?: number };

// Files written by commands larger than this are not returned as artifacts.
const MAX_ARTIFACT_BYTES = 1024 * 1024;
// Artifacts a run returns at most, by count and in all: a run that writes thousands of files gets the first ones.
const MAX_ARTIFACTS = 256;
const MAX_ARTIFACTS_TOTAL_BYTES = 16 * 1024 * 1024;
// A command's /tmp lives in the host's RAM: bounded so a run cannot fill it.
const TMP_BYTES = 256 * 1024 * 1024;

export async function startRunner(opts: RunnerOptions): Promise<{ url: string; close: () => Promise<void> }> {
  await prepareStateDir(opts.root);
  const firstUid = opts.firstUid ?? 60_000;
  const free = Array.from({ length: opts.slots ?? 16 }, (_, i) => firstUid + i);
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      // Logged here; the caller gets no exception text.
      console.error(JSON.stringify({ runner: "request failed", error: String(e) }));
      if (!res.headersSent) refuse(res, 500, "internal", "the runner failed");
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === "GET" && req.url === "/health") return void res.writeHead(200).end("ok");
    const auth = Buffer.from(req.headers.authorization ?? "");
    const want = Buffer.from(`Bearer ${opts.secret}`);
    if (auth.length !== want.length || !timingSafeEqual(auth, want)) return refuse(res, 401, "unauthorized", "a valid runner secret is required");
    if (req.method !== "POST" || req.url !== "/runs") return refuse(res, 404, "not_found", `no route for ${req.method} ${req.url}`);
    const uid = free.shift();
    if (uid === undefined) return refuse(res, 503, "runner_busy", "all sandbox slots are busy");
    const workspace = await mkdtemp(join(opts.root, "run-"));
    const etc = await mkdtemp(join(opts.root, "etc-"));
    try {
      let written: Written;
      try {
        written = await writeWorkspace(requestLines(req), workspace);
      } catch (e) {
        if (e instanceof RequestInvalid) return refuse(res, e.status, e.code, e.message, e.issues);
        throw e;
      }
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      const emit = (e: RunEvent): void => void res.write(`${JSON.stringify(e)}\n`);
      try {
        await run(written, workspace, etc, uid, emit);
      } catch (e) {
        const code = e instanceof RunRefused ? e.code : "run_failed";
        emit({ type: "error", error: { code, message: e instanceof Error ? e.message : String(e) } });
      } finally {
        res.end();
      }
    } finally {
      free.push(uid);
      // Anything the run left behind dies with its PID namespace; the workspace goes here.
      await rm(workspace, { recursive: true, force: true });
      await rm(etc, { recursive: true, force: true });
    }
  }

  await new Promise<void>((resolve) => server.listen(opts.port, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : opts.port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

type Written = { commands: string[]; limits: RunLimits; original: Map<string, string> };

/**
 * Writes the request's files into `workspace` as their batches arrive (only one batch is held at a time),
 * then the links that `planLinks` accepts; remembers each file's hash, to tell the run's changes apart.
 */
async function writeWorkspace(lines: AsyncIterable<RunLine>, workspace: string): Promise<Written> {
  let head: { commands: string[]; limits: RunLimits } | undefined;
  const original = new Map<string, string>();
  const links: { path: string; target: string }[] = [];
  for await (const line of lines) {
    if (line.type === "run") head = { commands: line.commands, limits: line.limits };
    else if (line.type === "files") {
      for (const f of line.files) {
        const path = safePath(f.path);
        if (original.has(path)) throw new RequestInvalid(400, "invalid_request", `${path} is sent twice`);
        original.set(path, hashOf(f.content));
        await mkdir(dirname(join(workspace, path)), { recursive: true });
        await writeFile(join(workspace, path), f.content);
      }
    } else if (line.type === "links") links.push(...line.links);
    else if (line.files !== original.size)
      throw new RequestInvalid(400, "invalid_request", `the request announced ${line.files} files and sent ${original.size}`);
  }
  if (!head) throw new RequestInvalid(400, "invalid_request", "the run request has no `run` line");
  // After the files, so no file is written through a link; planLinks keeps only links that stay inside.
  for (const link of planLinks(links, original.keys()).write) {
    await mkdir(dirname(join(workspace, link.path)), { recursive: true });
    await symlink(link.target, join(workspace, link.path));
  }
  return { ...head, original };
}

const hashOf = (content: string | Buffer): string => createHash("sha256").update(content).digest("hex");

async function run(req: Written, workspace: string, etc: string, uid: number, emit: (e: RunEvent) => void): Promise<void> {
  await writeMinimalEtc(etc, uid);
  await chownTree(workspace, uid);
  await requireToolchains(req.commands, workspace, etc, uid, req.limits);
  const results: CommandResult[] = [];
  for (const [index, command] of req.commands.entries()) {
    emit({ type: "start", index, command });
    const result = await runCommand(command, workspace, etc, uid, req.limits, (stream, data) => emit({ type: "output", index, stream, data }));
    results.push(result);
    emit({ type: "exit", index, result });
  }
  emit({ type: "done", results, changedFiles: await changedFiles(workspace, req.original) });
}

/** A run the runner will not start, with the error code the caller sees. */
class RunRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// A probe (`go version`, `python3 -m pytest --version`) answers in well under a second; more is a hang.
const PROBE_SECONDS = 30;

/** Probes, inside the sandbox as the run sees it, every toolchain the commands need; refuses the run naming those missing. */
async function requireToolchains(commands: string[], workspace: string, etc: string, uid: number, limits: RunLimits): Promise<void> {
  const needed = toolchainsForAll(commands);
  const probed = await Promise.all(
    needed.map(async (n) => ({
      ...n,
      ok:
        (await runCommand(n.toolchain.probe, workspace, etc, uid, { ...limits, wallSeconds: Math.min(limits.wallSeconds, PROBE_SECONDS) }, () => undefined))
          .exitCode === 0,
    })),
  );
  const missing = probed.filter((p) => !p.ok);
  if (missing.length > 0) throw new RunRefused(TOOLCHAIN_MISSING, missingToolchainMessage(missing));
}

// What a command sees of the host's /etc: enough to resolve libraries, users and localhost, nothing else
// (no host users' names, no machine configuration). Missing entries are skipped.
const HOST_ETC = ["ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "nsswitch.conf"];

function sandboxArgs(workspace: string, etc: string, uid: number, limits: RunLimits, command: string): string[] {
  return [
    `--reuid=${uid}`,
    `--regid=${uid}`,
    "--clear-groups",
    "bwrap",
    "--unshare-all",
    // Not "-try": --disable-userns needs a user namespace of its own, and nested ones are refused inside it.
    "--unshare-user",
    "--disable-userns",
    "--die-with-parent",
    "--new-session",
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
    "--ro-bind",
    join(etc, "passwd"),
    "/etc/passwd",
    "--ro-bind",
    join(etc, "group"),
    "/etc/group",
    "--ro-bind",
    join(etc, "hosts"),
    "/etc/hosts",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--size",
    String(TMP_BYTES),
    "--tmpfs",
    "/tmp",
    "--bind",
    workspace,
    "/workspace",
    // The root and /etc (bwrap's own tmpfs) read-only: only the workspace and /tmp are writable.
    "--remount-ro",
    "/",
    "--chdir",
    "/workspace",
    "--clearenv",
    "--setenv",
    "PATH",
    "/usr/local/bin:/usr/bin:/bin",
    "--setenv",
    "HOME",
    "/workspace",
    "--setenv",
    "CI",
    "true",
    "--",
    "/usr/bin/prlimit",
    `--cpu=${limits.cpuSeconds}`,
    `--as=${limits.memoryMb * 1024 * 1024}`,
    `--nproc=${limits.processes}`,
    `--fsize=${64 * 1024 * 1024}`,
    "--",
    "/bin/sh",
    "-c",
    command,
  ];
}

function runCommand(
  command: string,
  workspace: string,
  etc: string,
  uid: number,
  limits: RunLimits,
  onOutput: (stream: "stdout" | "stderr", data: string) => void,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    // detached: the child leads a process group of its own, so the whole group is killed at once (below).
    const child: ChildProcess = spawn("setpriv", sandboxArgs(workspace, etc, uid, limits, command), { stdio: ["ignore", "pipe", "pipe"], detached: true });
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
      // Nothing outlives its command: whatever is left of the group goes too.
      killGroup();
      resolve({ command, exitCode: code, signal, durationMs: Date.now() - started, stdout: out.stdout, stderr: out.stderr, truncated, stoppedFor });
    });
  });
}

async function chownTree(dir: string, uid: number): Promise<void> {
  await chown(dir, uid, uid);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await chownTree(p, uid);
    // chown follows a link (and fails on a dangling one); the link itself is what the run should own.
    else if (e.isSymbolicLink()) await lchown(p, uid, uid);
    else await chown(p, uid, uid);
  }
}

/** Files the run wrote or changed: `original` maps each file it was given to the hash of its content. */
async function changedFiles(workspace: string, original: Map<string, string>): Promise<{ path: string; content: string }[]> {
  const out: { path: string; content: string }[] = [];
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (out.length >= MAX_ARTIFACTS || total >= MAX_ARTIFACTS_TOTAL_BYTES) return;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== "node_modules" && e.name !== ".git") await walk(p);
      } else if (e.isFile()) {
        const buf = await readRegularFile(p);
        if (!buf || buf.length > MAX_ARTIFACT_BYTES || buf.includes(0) || total + buf.length > MAX_ARTIFACTS_TOTAL_BYTES) continue;
        const path = relative(workspace, p).split("\\").join("/");
        if (original.get(path) !== hashOf(buf)) {
          out.push({ path, content: buf.toString("utf8") });
          total += buf.length;
        }
      }
    }
  };
  await walk(workspace);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** The file's bytes if it is still a regular file: a link swapped in after the listing is not followed (O_NOFOLLOW). */
async function readRegularFile(path: string): Promise<Buffer | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size > MAX_ARTIFACT_BYTES) return null;
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/**
 * The runner's state directory: created by the runner, owned by it, a real directory (never a link), not
 * writable by others, in a parent others cannot swap it in (world-writable only with the sticky bit, as
 * /tmp). 0711, not 0700: each run's uid must pass through it for bubblewrap to bind its workspace, but
 * no one else can list it, and each workspace inside is the run's own (mkdtemp names, 0700).
 */
export async function prepareStateDir(root: string): Promise<void> {
  const parent = await lstat(dirname(root));
  if ((parent.mode & 0o002) !== 0 && (parent.mode & 0o1000) === 0)
    throw new Error(`${dirname(root)} is writable by everyone without the sticky bit: the runner's state directory cannot live there`);
  try {
    await mkdir(root, { mode: 0o711 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const st = await lstat(root);
  if (st.isSymbolicLink() || !st.isDirectory()) throw new Error(`${root} is not a directory of the runner's own (a link or a file is refused)`);
  if (st.uid !== process.getuid?.()) throw new Error(`${root} belongs to uid ${st.uid}, not to the runner: someone else created it`);
  await chmod(root, 0o711);
}

async function writeMinimalEtc(etc: string, uid: number): Promise<void> {
  await chmod(etc, 0o755);
  await writeFile(join(etc, "passwd"), `root:x:0:0:root:/:/usr/sbin/nologin\nrunner:x:${uid}:${uid}:sandbox run:/workspace:/bin/sh\n`, { mode: 0o644 });
  await writeFile(join(etc, "group"), `root:x:0:\nrunner:x:${uid}:\n`, { mode: 0o644 });
  await writeFile(join(etc, "hosts"), "127.0.0.1 localhost\n::1 localhost\n", { mode: 0o644 });
}

/** Answers in the API's error envelope (`{ error: { code, message, issues? } }`). */
function refuse(res: ServerResponse, status: number, code: string, message: string, issues?: { path: string; message: string }[]): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: { code, message, ...(issues ? { issues } : {}) } }));
}
