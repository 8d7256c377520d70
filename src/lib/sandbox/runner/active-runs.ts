/**
 * The runner's runs in progress, by the API's run id, each with its uid and the controller that stops it:
 * what `GET /runs` lists (with the processes each uid has, read from /proc) and `DELETE /runs/:runId`
 * cancels. Nothing here kills by uid: another runner on the machine may use the same uids; a command's
 * processes go with its process group and PID namespace (`run-command.ts`).
 */
import { readdir, readFile } from "node:fs/promises";
import type { CancelReason } from "../run-status";

export type ActiveRun = { runId: string; uid: number; startedAt: number; controller: AbortController };

/** `GET /runs`: each run going with its uid's live processes, and the free uids' processes (always none after a reap). */
export type RunnerRuns = {
  runs: { runId: string; uid: number; startedAt: string; processes: number }[];
  free: { uid: number; processes: number }[];
};

export class ActiveRuns {
  private readonly runs = new Map<string, ActiveRun>();

  /** Registers a run; false when a run with that id is already going (the id names one run). */
  add(run: ActiveRun): boolean {
    if (this.runs.has(run.runId)) return false;
    this.runs.set(run.runId, run);
    return true;
  }

  remove(runId: string): void {
    this.runs.delete(runId);
  }

  /** Stops the run's commands (their process groups are killed at once); false when no such run is going. */
  cancel(runId: string, reason: CancelReason): boolean {
    const run = this.runs.get(runId);
    if (!run) return false;
    run.controller.abort(reason);
    return true;
  }

  async list(freeUids: readonly number[]): Promise<RunnerRuns> {
    const running = [...this.runs.values()];
    const pids = await processesOf([...running.map((r) => r.uid), ...freeUids]);
    return {
      runs: running.map((r) => ({ runId: r.runId, uid: r.uid, startedAt: new Date(r.startedAt).toISOString(), processes: pids.get(r.uid)?.length ?? 0 })),
      free: freeUids.map((uid) => ({ uid, processes: pids.get(uid)?.length ?? 0 })),
    };
  }
}

/** The pids of every live process whose real uid is one of `uids` (one pass over /proc). */
export async function processesOf(uids: readonly number[]): Promise<Map<number, number[]>> {
  const wanted = new Set(uids);
  const found = new Map<number, number[]>();
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    // A process that ended since the listing has no status any more.
    const status = await readFile(`/proc/${name}/status`, "utf8").catch(() => "");
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
    // A zombie is dead already: it holds no resource but its table entry, and its parent reaps it.
    if (!wanted.has(uid) || /^State:\s+Z/m.test(status)) continue;
    found.set(uid, [...(found.get(uid) ?? []), Number(name)]);
  }
  return found;
}
