/**
 * The install phase's cache: one directory per key (the org, whether scripts ran, the install commands and
 * the hash of every lockfile's content), holding what the install wrote — `node_modules`, `venv` and `deps`
 * (Go's module cache, Cargo's home). Entries are complete or absent: an install writes into a stage and is
 * copied in under a temporary name, then renamed into place; later runs bind them read-only.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Install } from "./protocol";

const run = promisify(execFile);

/** The dependency directories an install writes, by their name in a cache entry. */
export const CACHE_DIRS = ["node_modules", "venv", "deps"] as const;

// A lockfile larger than this is not hashed whole but refused: no real lockfile comes near it.
const MAX_LOCKFILE_BYTES = 64 * 1024 * 1024;

/**
 * The cache key of `install` in `workspace`: a missing lockfile counts as missing, and a lockfile that is not
 * a regular file (a link) is refused, so the key always names the bytes the install read.
 */
export async function cacheKey(workspace: string, install: Install): Promise<string> {
  const h = createHash("sha256");
  h.update(JSON.stringify({ v: 1, scope: install.scope, allowScripts: install.allowScripts, commands: install.commands }));
  for (const path of [...install.lockfiles].sort()) {
    h.update(`\0${path}\0`);
    h.update(await lockfileHash(join(workspace, path)));
  }
  return h.digest("hex");
}

async function lockfileHash(path: string): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw new Error(`the lockfile ${path} cannot be read as a regular file`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size > MAX_LOCKFILE_BYTES) throw new Error(`the lockfile ${path} is not a regular file under ${MAX_LOCKFILE_BYTES} bytes`);
    return createHash("sha256")
      .update(await handle.readFile())
      .digest("hex");
  } finally {
    await handle.close();
  }
}

/** The entry's directory when the cache has `key`, else null. */
export async function cachedEntry(cacheRoot: string, key: string): Promise<string | null> {
  const dir = join(cacheRoot, key);
  const st = await lstat(dir).catch(() => null);
  return st?.isDirectory() && !st.isSymbolicLink() ? dir : null;
}

/**
 * Copies a finished install's stage into the cache as `key`, owned by the runner and read-only to runs, and
 * returns the entry. Two runs finishing the same key at once: the first rename wins, the other's copy goes.
 */
export async function commitEntry(cacheRoot: string, key: string, stage: string): Promise<string> {
  const dir = join(cacheRoot, key);
  const tmp = join(cacheRoot, `.tmp-${key}-${process.pid}-${Date.now()}`);
  await mkdir(tmp, { mode: 0o755 });
  try {
    // -a keeps links as links; --no-preserve=ownership makes the copy the runner's; go-w keeps runs from writing.
    for (const name of CACHE_DIRS) await run("cp", ["-a", "--no-preserve=ownership", join(stage, name), join(tmp, name)]);
    await run("chmod", ["-R", "go-w,a+rX", tmp]);
    await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    if (await cachedEntry(cacheRoot, key)) return dir;
    throw e;
  }
  return dir;
}
