/** Where the engine's work turns into metric events: assemblies (timed here), model calls, approved changes. */
import { z } from "zod";
import type { MetricEvent } from "./events";

type Assembled = { utilization: number; hotWindow?: { reused: number; added: number } };

/**
 * `assemble`, timed: each answer is passed to `done` with its events (the assembly, and its hot-window
 * use when it went through a session's window). The wall time is measured around the call, which crosses
 * I/O (the project's index), so it is real in a deployed Worker too.
 */
export function measuredAssembler<A extends unknown[], R extends Assembled>(
  assemble: (...args: A) => Promise<R>,
  at: { orgId: string; projectId: string },
  done: (events: MetricEvent[]) => void,
): (...args: A) => Promise<R> {
  return async (...args) => {
    const started = Date.now();
    const result = await assemble(...args);
    done(assemblyEvents(at, Date.now() - started, result));
    return result;
  };
}

export function assemblyEvents(at: { orgId: string; projectId: string }, latencyMs: number, result: Assembled): MetricEvent[] {
  return [
    { kind: "assembly", ...at, latencyMs, utilization: result.utilization },
    ...(result.hotWindow ? [{ kind: "hot_window" as const, ...at, reused: result.hotWindow.reused, added: result.hotWindow.added }] : []),
  ];
}

export function modelCallEvents(
  at: { orgId: string; projectId: string },
  calls: readonly { inputTokens: number; outputTokens: number; costUsd: number }[],
): MetricEvent[] {
  return calls.map((c) => ({ kind: "model_call", ...at, promptTokens: c.inputTokens, completionTokens: c.outputTokens, costUsd: c.costUsd }));
}

const UsedPieces = z.array(z.looseObject({ path: z.string() }));

/**
 * Retrieval recall of one approved generation: how many of its changed files were among the paths of the
 * pieces its context held (`chunksUsed` of its audit row, src/lib/audit/context-calls.ts).
 */
export function recallEvent(at: { orgId: string; projectId: string }, changedPaths: readonly string[], chunksUsed: string): MetricEvent {
  const used = UsedPieces.safeParse(JSON.parse(chunksUsed));
  const paths = new Set(used.success ? used.data.map((p) => p.path) : []);
  const changed = [...new Set(changedPaths)];
  return { kind: "recall", ...at, changedFiles: changed.length, inContext: changed.filter((p) => paths.has(p)).length };
}
