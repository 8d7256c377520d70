/**
 * Size-bounded directories for a run's workspace and its install stage: a sparse ext4 image, loop-mounted
 * (nosuid, nodev) on the directory, so a run that writes past its size gets ENOSPC and the host's disk is
 * untouched. Where the runner may not mount (not root), plain directories: unbounded, and said so at start.
 */
import { execFile } from "node:child_process";
import { chmod, mkdtemp, rm, rmdir, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export type Volume = { dir: string; bounded: boolean; release: () => Promise<void> };

/** Whether this process can make bounded volumes (tries once: makes, mounts and drops a small one). */
export async function canMountVolumes(root: string): Promise<boolean> {
  try {
    const v = await boundedVolume(root, "probe-", 16);
    await v.release();
    return true;
  } catch {
    return false;
  }
}

/** A fresh directory under `root` (mkdtemp, 0700) of at most `sizeMb` when `bounded`, else a plain one. */
export async function makeVolume(root: string, prefix: string, sizeMb: number, bounded: boolean): Promise<Volume> {
  if (bounded) return boundedVolume(root, prefix, sizeMb);
  const dir = await mkdtemp(join(root, prefix));
  return { dir, bounded: false, release: () => rm(dir, { recursive: true, force: true }) };
}

async function boundedVolume(root: string, prefix: string, sizeMb: number): Promise<Volume> {
  const dir = await mkdtemp(join(root, prefix));
  const image = `${dir}.img`;
  let mounted = false;
  const release = async (): Promise<void> => {
    // -l: a process still holding a file (it is dying with its namespace) must not keep the image busy.
    if (mounted) await run("umount", ["-l", dir]).catch(() => undefined);
    await rm(image, { force: true });
    await rmdir(dir).catch(() => rm(dir, { recursive: true, force: true }));
  };
  try {
    await writeFile(image, "", { mode: 0o600 });
    await truncate(image, sizeMb * 1024 * 1024);
    // No journal, no reserved blocks, no lazy init threads: a throwaway filesystem made in tens of milliseconds.
    await run("mkfs.ext4", ["-q", "-F", "-m", "0", "-O", "^has_journal", "-E", "lazy_itable_init=1,lazy_journal_init=1", image]);
    await run("mount", ["-o", "loop,nosuid,nodev", image, dir]);
    mounted = true;
    await rmdir(join(dir, "lost+found")).catch(() => undefined);
    // The new filesystem's root is 0755: back to mkdtemp's 0700, so other runs' uids cannot look in.
    await chmod(dir, 0o700);
    return { dir, bounded: true, release };
  } catch (e) {
    await release();
    throw e;
  }
}
