/**
 * A memory cap per command through a cgroup: the command's whole process tree is charged together and the
 * kernel's OOM killer stops it at the cap, whatever each process maps (RLIMIT_AS only bounds each process's
 * address space, and is both too strict for runtimes that reserve much and too loose for many processes).
 * cgroup v2 where its memory controller is delegated to us, else the v1 memory hierarchy; where neither is
 * writable the runner falls back to RLIMIT_AS and says so once at start.
 */
import { access, constants, mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export type CgroupKind = "v2" | "v1";
export type MemoryCgroups = { kind: CgroupKind; base: string };

/** One command's cgroup: the file its first process writes its pid into, and how to read and drop it. */
export type CommandCgroup = { procsFile: string; oomKilled: () => Promise<boolean>; remove: () => Promise<void> };

/** The writable memory cgroup root to create runs' cgroups under, or null (then RLIMIT_AS is the only cap). */
export async function findMemoryCgroups(root = "/sys/fs/cgroup", name = "winky-sandbox"): Promise<MemoryCgroups | null> {
  const v2 = await readFile(join(root, "cgroup.controllers"), "utf8").catch(() => null);
  if (v2?.split(/\s+/).includes("memory") && (await writable(root))) {
    const base = join(root, name);
    if (await made(base)) {
      // Children get the memory controller only when the parent enables it for them.
      const ok = await writeFile(join(base, "cgroup.subtree_control"), "+memory").then(
        () => true,
        () => false,
      );
      if (ok) return { kind: "v2", base };
    }
  }
  const v1 = join(root, "memory");
  if ((await writable(v1)) && (await made(join(v1, name)))) return { kind: "v1", base: join(v1, name) };
  return null;
}

/** Creates the command's cgroup capped at `bytes` (swap included where the kernel counts it). */
export async function commandCgroup(cgroups: MemoryCgroups, id: string, bytes: number): Promise<CommandCgroup> {
  const dir = join(cgroups.base, id);
  await mkdir(dir);
  if (cgroups.kind === "v2") {
    await writeFile(join(dir, "memory.max"), String(bytes));
    await writeFile(join(dir, "memory.swap.max"), "0").catch(() => undefined);
  } else {
    await writeFile(join(dir, "memory.limit_in_bytes"), String(bytes));
    // memsw exists only with swap accounting; it must be set after limit_in_bytes and be at least it.
    await writeFile(join(dir, "memory.memsw.limit_in_bytes"), String(bytes)).catch(() => undefined);
  }
  return {
    procsFile: join(dir, "cgroup.procs"),
    oomKilled: async () => {
      if (cgroups.kind === "v2") return /^oom_kill [1-9]/m.test(await readFile(join(dir, "memory.events"), "utf8").catch(() => ""));
      const control = await readFile(join(dir, "memory.oom_control"), "utf8").catch(() => "");
      if (/^oom_kill [1-9]/m.test(control)) return true;
      return Number((await readFile(join(dir, "memory.failcnt"), "utf8").catch(() => "0")).trim()) > 0 && /under_oom 1/.test(control);
    },
    remove: async () => {
      // The group's processes are dead by now (its PID namespace went with bwrap); a straggler keeps the
      // directory busy for a moment, so try a few times.
      for (let i = 0; i < 20; i++) {
        try {
          await rmdir(dir);
          return;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
  };
}

async function writable(dir: string): Promise<boolean> {
  return access(dir, constants.W_OK).then(
    () => true,
    () => false,
  );
}

async function made(dir: string): Promise<boolean> {
  return mkdir(dir).then(
    () => true,
    (e: NodeJS.ErrnoException) => e.code === "EEXIST",
  );
}
