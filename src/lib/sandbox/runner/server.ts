/**
 * The local sandbox runner: a Node HTTP server that `npm run dev` starts beside wrangler. Each run gets
 * a fresh, size-bounded workspace and a uid of its own; an install phase (when the run has one) fetches its
 * dependencies through the runner's egress proxy into a cache keyed by the lockfiles; each check then runs
 * under bubblewrap (no network, read-only system and dependencies, its own PID namespace, a seccomp filter)
 * with a cgroup memory cap and rlimits, and the runner enforces wall time and output size. Requests carry the
 * shared secret. Events stream back as NDJSON while the commands run. A run stops when its caller closes the
 * connection or `DELETE /runs/:runId` cancels it; `GET /runs` lists the runs going with their processes.
 */
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { constants } from "node:fs";
import { chmod, chown, type FileHandle, lchown, lstat, mkdir, mkdtemp, open, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { basename, dirname, join, relative } from "node:path";
import { safePath } from "../../archive";
import { RUN_CANCELLED } from "../run-status";
import { ActiveRuns } from "./active-runs";
import { InstallCache } from "./install-cache";
import { checkEnv, dependencyMounts, installPhase } from "./install-phase";
import { planLinks } from "./links";
import { findMemoryCgroups, type MemoryCgroups } from "./memory-cgroup";
import {
  type CommandResult,
  type Install,
  type InstallOutcome,
  MAX_ARTIFACTS,
  MAX_ARTIFACTS_TOTAL_BYTES,
  type RunEvent,
  type RunLimits,
  type RunLine,
  WORKSPACE_TOO_LARGE,
} from "./protocol";
import { DEFAULT_REGISTRIES, type Registries } from "./registries";
import { RequestInvalid, requestLines } from "./request-lines";
import { type CommandSpec, type Mount, runCommand } from "./run-command";
import { seccompArch, seccompProgram } from "./seccomp";
import { missingToolchainMessage, TOOLCHAIN_MISSING, toolchainsForAll } from "./toolchains";
import { canMountVolumes, makeVolume, type Volume } from "./volumes";
import { WorkspaceFull, writeWorkspaceFile } from "./write-file";

export type RunnerOptions = {
  port: number;
  secret: string;
  root: string;
  firstUid?: number;
  slots?: number;
  /** The registries installs may reach (the egress proxy's allow list); the public ones by default. */
  registries?: Registries;
  /** Off: no cgroup memory cap even where one could be made (RLIMIT_AS only). */
  memoryCgroups?: boolean;
  /** The install cache's bound on its total size on disk (`SANDBOX_CACHE_MAX_BYTES`); least recently used entries go first. */
  cacheMaxBytes?: number;
};

/** Which hard limits this machine lets the runner enforce, reported at start. */
export type RunnerLimits = { memory: "cgroup v2" | "cgroup v1" | "rlimit only"; workspace: "bounded volume" | "unbounded"; seccomp: string };

// Files written by commands larger than this are not returned as artifacts.
const MAX_ARTIFACT_BYTES = 1024 * 1024;

type RunnerContext = {
  root: string;
  cache: InstallCache;
  registries: Registries;
  boundedVolumes: boolean;
  seccomp: Buffer | null;
  cgroups: MemoryCgroups | null;
};

export async function startRunner(opts: RunnerOptions): Promise<{ url: string; limits: RunnerLimits; close: () => Promise<void> }> {
  await prepareStateDir(opts.root);
  const cacheRoot = join(opts.root, "cache");
  await mkdir(cacheRoot, { recursive: true, mode: 0o711 });
  const arch = seccompArch();
  const ctx: RunnerContext = {
    root: opts.root,
    cache: new InstallCache(cacheRoot, opts.cacheMaxBytes),
    registries: opts.registries ?? DEFAULT_REGISTRIES,
    boundedVolumes: await canMountVolumes(opts.root),
    seccomp: arch ? seccompProgram(arch) : null,
    cgroups: opts.memoryCgroups === false ? null : await findMemoryCgroups(),
  };
  const limits: RunnerLimits = {
    memory: ctx.cgroups ? `cgroup ${ctx.cgroups.kind}` : "rlimit only",
    workspace: ctx.boundedVolumes ? "bounded volume" : "unbounded",
    seccomp: arch ? `filter for ${arch}` : `none (no filter for ${process.arch})`,
  };
  const firstUid = opts.firstUid ?? 60_000;
  const free = Array.from({ length: opts.slots ?? 16 }, (_, i) => firstUid + i);
  const active = new ActiveRuns();
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
    if (req.method === "GET" && req.url === "/runs")
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(await active.list(free)));
    const cancelled = req.method === "DELETE" ? /^\/runs\/([A-Za-z0-9_-]{1,64})$/.exec(req.url ?? "") : null;
    if (cancelled?.[1]) {
      if (!active.cancel(cancelled[1], "cancelled_by_caller")) return refuse(res, 404, "not_found", "no such run is going");
      return void res.writeHead(204).end();
    }
    if (req.method !== "POST" || req.url !== "/runs") return refuse(res, 404, "not_found", `no route for ${req.method} ${req.url}`);
    const uid = free.shift();
    if (uid === undefined) return refuse(res, 503, "runner_busy", "all sandbox slots are busy");
    let workspace: Volume | undefined;
    let runId: string | undefined;
    // The run stops when its caller is gone (the connection closed before the answer ended) or is cancelled.
    const controller = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) controller.abort("client_gone");
    });
    const etc = await mkdtemp(join(opts.root, "etc-"));
    try {
      let written: Written;
      try {
        written = await writeWorkspace(requestLines(req), async (head) => {
          runId = head.runId ?? `anonymous-${randomUUID()}`;
          if (!active.add({ runId, uid, startedAt: Date.now(), controller })) {
            runId = undefined;
            throw new RequestInvalid(409, "run_exists", "a run with this id is already going");
          }
          workspace = await makeVolume(opts.root, "run-", head.limits.workspaceMb, ctx.boundedVolumes);
          return workspace.dir;
        });
      } catch (e) {
        if (e instanceof RequestInvalid) return refuse(res, e.status, e.code, e.message, e.issues);
        throw e;
      }
      const dir = workspace?.dir ?? "";
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      // A caller that is gone reads nothing more.
      const emit = (e: RunEvent): void => void (res.destroyed || res.write(`${JSON.stringify(e)}\n`));
      try {
        await run(written, dir, etc, uid, ctx, emit, controller.signal);
      } catch (e) {
        const code = e instanceof RunRefused ? e.code : "run_failed";
        emit({ type: "error", error: { code, message: e instanceof Error ? e.message : String(e) } });
      } finally {
        res.end();
      }
    } finally {
      free.push(uid);
      try {
        // Anything the run left behind dies with its PID namespace; the workspace goes here.
        await workspace?.release();
        await rm(etc, { recursive: true, force: true });
      } finally {
        // Listed until nothing of it is left.
        if (runId) active.remove(runId);
      }
    }
  }

  await new Promise<void>((resolve) => server.listen(opts.port, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : opts.port;
  return { url: `http://127.0.0.1:${port}`, limits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

type Head = { runId: string | undefined; commands: string[]; install: Install | undefined; limits: RunLimits };
type Written = Head & { original: Map<string, string> };

/**
 * Writes the request's files into the workspace `open` makes for the run's header (its size is the run's
 * limit) as their batches arrive (only one batch is held at a time), then the links that `planLinks`
 * accepts; remembers each file's hash, to tell the run's changes apart.
 */
async function writeWorkspace(lines: AsyncIterable<RunLine>, openWorkspace: (head: Head) => Promise<string>): Promise<Written> {
  let head: Head | undefined;
  let workspace = "";
  const original = new Map<string, string>();
  const links: { path: string; target: string }[] = [];
  for await (const line of lines) {
    if (line.type === "run") {
      if (head) throw new RequestInvalid(400, "invalid_request", "the run request has two `run` lines");
      head = { runId: line.runId, commands: line.commands, install: line.install, limits: line.limits };
      workspace = await openWorkspace(head);
    } else if (!head) throw new RequestInvalid(400, "invalid_request", "the run request must start with its `run` line");
    else if (line.type === "files") {
      for (const f of line.files) {
        const path = safePath(f.path);
        if (original.has(path)) throw new RequestInvalid(400, "invalid_request", `${path} is sent twice`);
        const written = await writeWorkspaceFile(workspace, path, f).catch((e: unknown) => {
          if (!(e instanceof WorkspaceFull)) throw e;
          throw new RequestInvalid(413, WORKSPACE_TOO_LARGE, `the project does not fit in the run's workspace of ${head?.limits.workspaceMb} MiB`);
        });
        original.set(path, written);
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

async function run(
  req: Written,
  workspace: string,
  etc: string,
  uid: number,
  ctx: RunnerContext,
  emit: (e: RunEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  // Each command stops at once when the run is cancelled (run-command.ts); no later step starts.
  const goOn = (): void => {
    if (signal.aborted) throw new RunRefused(RUN_CANCELLED, signal.reason === "client_gone" ? "the run's client went away" : "the run was cancelled");
  };
  await writeMinimalEtc(etc, uid);
  await chownTree(workspace, uid);
  // Names the run's cgroups: unique across runners sharing the machine (another root may mint the same mkdtemp name).
  const tag = `${process.pid}-${basename(workspace)}`;
  const base = { workspace, etc, uid, limits: req.limits, seccomp: ctx.seccomp, cgroups: ctx.cgroups, signal };
  if (!req.install) return checks(req, base, null, null, tag, emit, goOn);
  await requireToolchains([FORWARDER_NEEDS, ...req.install.commands], base, [], {}, `${tag}-ip`);
  const installed = await installPhase(req.install, base, ctx, tag, emit);
  // The cache entry stays pinned while the checks have it mounted.
  try {
    goOn();
    // The dependencies did not install: the checks would fail for that, not for the change; none run.
    if (!installed.entry) {
      await emitArtifacts(workspace, req.original, emit);
      return emit({ type: "done", results: [], changedFiles: [], install: installed.outcome });
    }
    await checks(req, base, installed.entry, installed.outcome, tag, emit, goOn);
  } finally {
    await installed.release();
  }
}

/** The check commands, with the installed dependencies (`entry`) read-only when the run has them, then the artifacts. */
async function checks(
  req: Written,
  base: Omit<CommandSpec, "workspaceWritable" | "mounts" | "env" | "argv" | "id">,
  entry: string | null,
  install: InstallOutcome | null,
  tag: string,
  emit: (e: RunEvent) => void,
  goOn: () => void,
): Promise<void> {
  const { workspace } = base;
  const mounts = entry ? dependencyMounts(entry, false) : [];
  const env = entry ? await checkEnv(entry) : {};
  // After the install: a tool the install brought (pytest in the venv) counts.
  await requireToolchains(req.commands, base, mounts, env, `${tag}-cp`);
  const results: CommandResult[] = [];
  for (const [index, command] of req.commands.entries()) {
    goOn();
    emit({ type: "start", index, command });
    const spec = { ...base, workspaceWritable: true, mounts, env, id: `${tag}-c${index}`, argv: ["/bin/sh", "-c", command] };
    const result = await runCommand(command, spec, (stream, data) => emit({ type: "output", index, stream, data }));
    results.push(result);
    emit({ type: "exit", index, result });
  }
  goOn();
  await emitArtifacts(workspace, req.original, emit);
  emit({ type: "done", results, changedFiles: [], install });
}

/** The run's artifacts, an event each: a line stays under one artifact's size, and the Worker stores each as it comes. */
async function emitArtifacts(workspace: string, original: Map<string, string>, emit: (e: RunEvent) => void): Promise<void> {
  for (const f of await changedFiles(workspace, original)) emit({ type: "artifact", path: f.path, content: f.content });
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
// The install phase's forwarder is a Node program.
const FORWARDER_NEEDS = "node --version";

/** Probes, inside the sandbox as the commands will see it, every toolchain they need; refuses the run naming those missing. */
async function requireToolchains(
  commands: string[],
  base: Omit<CommandSpec, "workspaceWritable" | "mounts" | "env" | "argv" | "id">,
  mounts: Mount[],
  env: Record<string, string>,
  tag: string,
): Promise<void> {
  const needed = toolchainsForAll(commands);
  const limits = { ...base.limits, wallSeconds: Math.min(base.limits.wallSeconds, PROBE_SECONDS) };
  const probed = await Promise.all(
    needed.map(async (n, i) => {
      const spec = { ...base, limits, workspaceWritable: true, mounts, env, id: `${tag}${i}`, argv: ["/bin/sh", "-c", n.toolchain.probe] };
      return { ...n, ok: (await runCommand(n.toolchain.probe, spec, () => undefined)).exitCode === 0 };
    }),
  );
  const missing = probed.filter((p) => !p.ok);
  // A probe killed by the run's cancellation proves nothing missing.
  if (base.signal?.aborted) throw new RunRefused(RUN_CANCELLED, "the run was cancelled");
  if (missing.length > 0) throw new RunRefused(TOOLCHAIN_MISSING, missingToolchainMessage(missing));
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

// Dependencies and version control are not the run's output.
const SKIPPED_DIRS = new Set(["node_modules", ".venv", ".git"]);

/** Files the run wrote or changed: `original` maps each file it was given to the hash of its content. */
async function changedFiles(workspace: string, original: Map<string, string>): Promise<{ path: string; content: string }[]> {
  const out: { path: string; content: string }[] = [];
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (out.length >= MAX_ARTIFACTS || total >= MAX_ARTIFACTS_TOTAL_BYTES) return;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIPPED_DIRS.has(e.name)) await walk(p);
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
