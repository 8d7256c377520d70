/** Resident memory of the local processes over time: workerd and the rest of wrangler's process group, and this process (the fakes and the runner). */
import { execFileSync } from "node:child_process";

export type MemorySample = { at: number; workerdMiB: number; wranglerMiB: number; soakMiB: number };

/** RSS of the process group `pgid` in MiB, workerd apart from the rest; undefined once the group is gone. */
export function groupRss(pgid: number): { workerd: number; other: number } | undefined {
  try {
    const out = execFileSync("ps", ["-o", "rss=,comm=", "-g", String(pgid)], { encoding: "utf8" });
    let workerd = 0;
    let other = 0;
    for (const line of out.trim().split("\n")) {
      const [rss, comm] = line.trim().split(/\s+/);
      if (comm?.startsWith("workerd")) workerd += Number(rss);
      else other += Number(rss);
    }
    return { workerd: workerd / 1024, other: other / 1024 };
  } catch {
    return undefined;
  }
}

/** Samples every `everyMs` until stopped. */
export function sampleMemory(pgid: number | undefined, everyMs: number): { samples: MemorySample[]; stop(): void } {
  const samples: MemorySample[] = [];
  const take = (): void => {
    const g = pgid === undefined ? undefined : groupRss(pgid);
    if (g) samples.push({ at: Date.now(), workerdMiB: g.workerd, wranglerMiB: g.other, soakMiB: process.memoryUsage().rss / 1024 ** 2 });
  };
  take();
  const timer = setInterval(take, everyMs);
  return { samples, stop: () => clearInterval(timer) };
}
