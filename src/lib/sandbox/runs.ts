/** Sandbox runs as a service: record the input, run it, store results and artifacts, update the row. */
import { eq } from "drizzle-orm";
import { newId } from "../crypto/hash";
import { AppError } from "../errors";
import { type Db, tables } from "../storage";
import { applyChange, type Change } from "./apply-change";
import { detectCommands } from "./detect-checks";
import { type CheckedStatus, runStatus } from "./run-status";
import { RunLimits } from "./runner/protocol";
import { type RunEvent, type SandboxOutcome, type SandboxRun, sandboxFor } from "./sandbox";
import { projectLinks, projectSnapshot } from "./snapshot";

export type RunSummary = {
  runId: string;
  status: CheckedStatus;
  results: SandboxOutcome["results"];
  artifacts: { path: string; key: string }[];
};

export const runKey = (projectId: string, runId: string, name: string): string => `sandbox/${projectId}/${runId}/${name}`;

/** Applies `change` to the project snapshot (a change that does not apply throws; nothing runs) and records the run. */
export async function prepareRun(
  env: Env,
  db: Db,
  project: { projectId: string; orgId: string; checkCommands: string | null },
  change: Change,
  commands: string[] | undefined,
  limits: Partial<RunLimits>,
  replayOf?: { runId: string; request: string },
): Promise<{ runId: string; input: SandboxRun }> {
  let input: SandboxRun;
  let request: string;
  if (replayOf) {
    const stored = await env.CHUNKS.get(runKey(project.projectId, replayOf.runId, "input.json"));
    if (!stored) throw new AppError(409, "not_replayable", "the run's recorded input is missing");
    input = (await stored.json()) as SandboxRun;
    request = replayOf.request;
  } else {
    const { tree } = applyChange(await projectSnapshot(db, env.CHUNKS, project.projectId), change);
    // The request's commands, else the project's settings, else what the files suggest.
    const chosen = commands ?? (project.checkCommands ? (JSON.parse(project.checkCommands) as string[]) : detectCommands(tree));
    if (chosen.length === 0) {
      throw new AppError(
        400,
        "no_commands",
        "no checks were given, none are set on the project (PATCH checkCommands), and none could be detected from the files",
      );
    }
    input = {
      files: [...tree].map(([path, content]) => ({ path, content })),
      links: await projectLinks(db, project.projectId),
      commands: chosen,
      limits: RunLimits.parse(limits),
    };
    request = JSON.stringify({ change, commands: chosen, limits: input.limits });
  }
  const runId = newId("run");
  await env.CHUNKS.put(runKey(project.projectId, runId, "input.json"), JSON.stringify(input));
  await db
    .insert(tables.sandboxRuns)
    .values({ runId, projectId: project.projectId, orgId: project.orgId, request, status: "running", replayOf: replayOf?.runId ?? null });
  return { runId, input };
}

/** Runs a recorded input, stores its outcome and artifacts, and returns the summary. */
export async function executeRun(env: Env, db: Db, runId: string, projectId: string, input: SandboxRun, onEvent: (e: RunEvent) => void): Promise<RunSummary> {
  try {
    const outcome = await sandboxFor(env, runId).run(input, onEvent);
    const artifacts = await Promise.all(
      outcome.changedFiles.map(async (f) => {
        const key = runKey(projectId, runId, `artifacts/${f.path}`);
        await env.CHUNKS.put(key, f.content);
        return { path: f.path, key };
      }),
    );
    const status = runStatus(outcome.results);
    await env.CHUNKS.put(runKey(projectId, runId, "results.json"), JSON.stringify(outcome.results));
    await db
      .update(tables.sandboxRuns)
      .set({
        status,
        results: JSON.stringify(
          outcome.results.map((r) => ({ command: r.command, exitCode: r.exitCode, signal: r.signal, durationMs: r.durationMs, stoppedFor: r.stoppedFor })),
        ),
        artifacts: JSON.stringify(artifacts),
        finishedAt: Date.now(),
      })
      .where(eq(tables.sandboxRuns.runId, runId));
    return { runId, status, results: outcome.results, artifacts };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    await db.update(tables.sandboxRuns).set({ status: "error", error: message, finishedAt: Date.now() }).where(eq(tables.sandboxRuns.runId, runId));
    if (e instanceof AppError) throw e;
    throw new AppError(502, "sandbox_failed", message);
  }
}
