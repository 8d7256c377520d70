/**
 * A run's install phase: from the cache when it has the lockfiles' key, else the install commands in the
 * sandbox with the workspace read-only, writing only the dependency directories (a bounded stage), their
 * only network the egress proxy; a successful install is then cached for the runs after it.
 */
import { chmod, chown, lstat, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startEgressProxy } from "./egress-proxy";
import { FORWARDER_PATH, FORWARDER_PORT, FORWARDER_SOURCE, PROXY_SOCKET_PATH } from "./forwarder";
import { CACHE_DIRS, cacheKey, type InstallCache } from "./install-cache";
import type { CommandResult, Install, InstallOutcome, RunEvent } from "./protocol";
import { DEPENDENCY_DIRS, DEPENDENCY_ENV, installEnv, type Registries } from "./registries";
import { type CommandSpec, type Mount, runCommand } from "./run-command";
import { makeVolume } from "./volumes";

export type InstallContext = { root: string; cache: InstallCache; registries: Registries; boundedVolumes: boolean };

/** The dependency directories of a cache entry or stage, bound where the tools look for them. */
export function dependencyMounts(dir: string, writable: boolean): Mount[] {
  return [
    { source: join(dir, "node_modules"), target: DEPENDENCY_DIRS.nodeModules, writable },
    { source: join(dir, "venv"), target: DEPENDENCY_DIRS.venv, writable },
    { source: join(dir, "deps"), target: DEPENDENCY_DIRS.deps, writable },
  ];
}

/** The checks' environment over an installed entry: the Go and Cargo caches, and the venv first on PATH if there is one. */
export async function checkEnv(entry: string): Promise<Record<string, string>> {
  const env: Record<string, string> = { ...DEPENDENCY_ENV, GOPROXY: "off", GOFLAGS: "-mod=mod" };
  if (await lstat(join(entry, "venv", "bin")).catch(() => null)) {
    env.VIRTUAL_ENV = DEPENDENCY_DIRS.venv;
    env.PATH = `${DEPENDENCY_DIRS.venv}/bin:/usr/local/bin:/usr/bin:/bin`;
  }
  return env;
}

/**
 * The workspace's `node_modules` and `.venv` as plain empty directories of the run's uid, to bind the
 * dependencies on: a link or a file the project had there goes (a bind would follow a link).
 */
export async function prepareMountPoints(workspace: string, uid: number): Promise<void> {
  for (const name of ["node_modules", ".venv"]) {
    const path = join(workspace, name);
    const st = await lstat(path).catch(() => null);
    if (st?.isDirectory()) continue;
    if (st) await rm(path, { force: true });
    await mkdir(path);
    await chown(path, uid, uid);
  }
}

// The machine's CA bundle (Debian's path): public certificates only, never /etc/ssl/private.
const CA_DIR = "/etc/ssl/certs";
const CA_BUNDLE = `${CA_DIR}/ca-certificates.crt`;

/**
 * The machine's trust store for the install's TLS, when it has one: the registries' certificates are checked
 * against what the host trusts (an egress that re-signs TLS has its CA there), and every tool is told, since
 * Node and pip otherwise use bundles of their own.
 */
async function trustStore(): Promise<{ mounts: Mount[]; env: Record<string, string> } | null> {
  if (!(await lstat(CA_BUNDLE).catch(() => null))) return null;
  return {
    mounts: [{ source: CA_DIR, target: CA_DIR, writable: false }],
    env: { NODE_EXTRA_CA_CERTS: CA_BUNDLE, SSL_CERT_FILE: CA_BUNDLE, PIP_CERT: CA_BUNDLE, REQUESTS_CA_BUNDLE: CA_BUNDLE, CURL_CA_BUNDLE: CA_BUNDLE },
  };
}

/**
 * Runs (or finds cached) the install; the entry is the cache directory to bind, null when the install failed.
 * The entry stays pinned (never evicted) until the run calls `release`, which it must do however it ends.
 */
export async function installPhase(
  install: Install,
  base: Omit<CommandSpec, "workspaceWritable" | "mounts" | "env" | "argv" | "id">,
  ctx: InstallContext,
  tag: string,
  emit: (e: RunEvent) => void,
): Promise<{ outcome: InstallOutcome; entry: string | null; release: () => Promise<void> }> {
  const key = await cacheKey(base.workspace, install);
  await prepareMountPoints(base.workspace, base.uid);
  const { entry: hit, release } = await ctx.cache.acquire(key);
  if (hit) return { outcome: { cacheKey: key, cached: true, results: [], ok: true, refusedHosts: [] }, entry: hit, release };
  try {
    const { outcome, entry } = await installNow(install, base, ctx, tag, emit, key);
    return { outcome, entry, release };
  } catch (e) {
    await release();
    throw e;
  }
}

/** The install commands in the sandbox, through the egress proxy, into a stage that is cached when they all succeed. */
async function installNow(
  install: Install,
  base: Omit<CommandSpec, "workspaceWritable" | "mounts" | "env" | "argv" | "id">,
  ctx: InstallContext,
  tag: string,
  emit: (e: RunEvent) => void,
  key: string,
): Promise<{ outcome: InstallOutcome; entry: string | null }> {
  const stage = await makeVolume(ctx.root, "stage-", base.limits.workspaceMb, ctx.boundedVolumes);
  const runDir = await mkdtemp(join(ctx.root, "net-"));
  const proxy = await startEgressProxy(join(runDir, "proxy.sock"), ctx.registries);
  try {
    await chown(stage.dir, base.uid, base.uid);
    for (const name of CACHE_DIRS) {
      await mkdir(join(stage.dir, name));
      await chown(join(stage.dir, name), base.uid, base.uid);
    }
    await chmod(runDir, 0o755);
    await writeFile(join(runDir, "forward.cjs"), FORWARDER_SOURCE, { mode: 0o644 });
    const trust = await trustStore();
    const env = {
      ...installEnv(ctx.registries, `http://127.0.0.1:${FORWARDER_PORT}`, install.allowScripts),
      ...DEPENDENCY_ENV,
      ...(trust?.env ?? {}),
      HOME: "/tmp",
    };
    const results: CommandResult[] = [];
    for (const [index, command] of install.commands.entries()) {
      emit({ type: "start", index, command, phase: "install" });
      const result = await runCommand(
        command,
        {
          ...base,
          workspaceWritable: false,
          mounts: [...dependencyMounts(stage.dir, true), ...(trust?.mounts ?? [])],
          env,
          runDir,
          id: `${tag}-i${index}`,
          argv: ["node", FORWARDER_PATH, String(FORWARDER_PORT), PROXY_SOCKET_PATH, "/bin/sh", "-c", command],
        },
        (stream, data) => emit({ type: "output", index, stream, data, phase: "install" }),
      );
      results.push(result);
      emit({ type: "exit", index, result, phase: "install" });
      if (result.exitCode !== 0) break;
    }
    const ok = results.length === install.commands.length && results.every((r) => r.exitCode === 0);
    const entry = ok ? await ctx.cache.commit(key, stage.dir) : null;
    return { outcome: { cacheKey: key, cached: false, results, ok, refusedHosts: proxy.refused() }, entry };
  } finally {
    await proxy.close();
    await rm(runDir, { recursive: true, force: true });
    await stage.release();
  }
}
