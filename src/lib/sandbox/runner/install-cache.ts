/**
 * The install phase's cache: one directory per key (the org, whether scripts ran, the install commands and
 * the hash of every lockfile's content), holding what the install wrote — `node_modules`, `venv` and `deps`
 * (Go's module cache, Cargo's home). Entries are complete or absent: an install writes into a stage and is
 * copied in under a temporary name, then renamed into place; later runs bind them read-only.
 *
 * The cache is bounded by its total size on disk: each entry's size is measured once, when it is written
 * (`du` in a child process, on the copy no run reads yet), and its last use is its directory's mtime. When an
 * entry is written and when a run lets go of one, the least recently used entries go until the rest fits,
 * never one a run of this runner has mounted (pinned). An entry larger than the whole bound is still used by
 * the run that installed it, and goes when that run ends.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir, open, readdir, readFile, rename, rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { chooseEvictions, DEFAULT_CACHE_MAX_BYTES, type EntryInfo } from "./cache-eviction";
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
    await writeFile(join(tmp, SIZE_FILE), String(await diskBytes(tmp)), { mode: 0o644 });
    await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    if (await cachedEntry(cacheRoot, key)) return dir;
    throw e;
  }
  await touch(dir);
  return dir;
}

// Each entry's size on disk, written beside its dependency directories (runs see only those).
const SIZE_FILE = "size";
const ENTRY_NAME = /^[0-9a-f]{64}$/;
const TRASH_PREFIX = ".trash-";

/** The cache as one runner uses it: entries pinned while a run has them mounted, and evicted least recently used first. */
export class InstallCache {
  private readonly pins = new Map<string, number>();
  private readonly evicting = new Set<string>();
  private evictions: Promise<unknown> = Promise.resolve();

  constructor(
    readonly root: string,
    readonly maxBytes: number = DEFAULT_CACHE_MAX_BYTES,
  ) {}

  /**
   * Pins `key` for a run (no eviction takes it until `release`) and returns its entry when the cache has it,
   * marking it used now. The pin comes first, so an entry found is never one being evicted.
   */
  async acquire(key: string): Promise<{ entry: string | null; release: () => Promise<void> }> {
    this.pins.set(key, (this.pins.get(key) ?? 0) + 1);
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      const left = (this.pins.get(key) ?? 1) - 1;
      if (left > 0) this.pins.set(key, left);
      else this.pins.delete(key);
      await this.evict();
    };
    const entry = await cachedEntry(this.root, key);
    // Chosen for eviction just before the pin: being renamed away, so not there for this run.
    if (!entry || this.evicting.has(key)) return { entry: null, release };
    await touch(entry);
    return { entry, release };
  }

  /** Writes the install's stage as `key` (see `commitEntry`), then evicts what no longer fits. The caller holds the key's pin. */
  async commit(key: string, stage: string): Promise<string> {
    const entry = await commitEntry(this.root, key, stage);
    await this.evict();
    return entry;
  }

  /** Evicts least recently used entries until the cache fits its bound (one eviction at a time); returns the keys evicted. */
  evict(): Promise<string[]> {
    const next = this.evictions.then(() => this.evictNow());
    this.evictions = next.catch(() => undefined);
    // A failed eviction never fails a run: it is logged, and the next one tries again.
    return next.catch((e: unknown) => {
      console.error(JSON.stringify({ runner: "cache eviction failed", error: String(e) }));
      return [];
    });
  }

  /** Every entry with its size and last use (an entry from before sizes were recorded is measured now). */
  async entries(): Promise<EntryInfo[]> {
    const out: EntryInfo[] = [];
    for (const name of await readdir(this.root)) {
      if (!ENTRY_NAME.test(name)) continue;
      const dir = join(this.root, name);
      const st = await lstat(dir).catch(() => null);
      if (!st?.isDirectory()) continue;
      const recorded = Number((await readFile(join(dir, SIZE_FILE), "utf8").catch(() => "")).trim());
      const bytes = Number.isSafeInteger(recorded) && recorded > 0 ? recorded : await measure(dir);
      out.push({ key: name, bytes, lastUsedMs: st.mtimeMs });
    }
    return out;
  }

  private async evictNow(): Promise<string[]> {
    const chosen = chooseEvictions(await this.entries(), this.maxBytes, new Set(this.pins.keys()));
    const evicted: string[] = [];
    for (const key of chosen) {
      // Pinned since the listing: a run is about to mount it.
      if (this.pins.has(key)) continue;
      this.evicting.add(key);
      try {
        // Renamed away first (atomic), so a run looking the key up finds it whole or not at all.
        await rename(join(this.root, key), join(this.root, `${TRASH_PREFIX}${key}-${process.pid}-${Date.now()}`));
        evicted.push(key);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      } finally {
        this.evicting.delete(key);
      }
    }
    this.sweep();
    return evicted;
  }

  /**
   * Deletes what eviction renamed away, in a child process and without holding anyone up: a run that let go of
   * an entry does not wait for gigabytes to be unlinked, and the runner's event loop and thread pool stay free.
   */
  private sweep(): void {
    void readdir(this.root)
      .then((names) => names.filter((n) => n.startsWith(TRASH_PREFIX)).map((n) => join(this.root, n)))
      .then((trash) => (trash.length > 0 ? run("rm", ["-rf", "--", ...trash]) : undefined))
      .catch((e: unknown) => console.error(JSON.stringify({ runner: "cache sweep failed", error: String(e) })));
  }
}

/** An entry's size on disk, measured once and recorded (for an entry written before sizes were). */
async function measure(dir: string): Promise<number> {
  const bytes = await diskBytes(dir);
  await writeFile(join(dir, SIZE_FILE), String(bytes), { mode: 0o644 }).catch(() => undefined);
  return bytes;
}

/** Marks an entry used now (its directory's mtime: nothing else writes it, since entries are read-only). */
async function touch(dir: string): Promise<void> {
  const now = new Date();
  await utimes(dir, now, now).catch(() => undefined);
}

/** Bytes a directory takes on disk (`du` in a child process, so the runner's event loop goes on serving runs). */
async function diskBytes(dir: string): Promise<number> {
  const { stdout } = await run("du", ["-s", "-B1", dir]);
  return Number(stdout.split("\t")[0]) || 0;
}
