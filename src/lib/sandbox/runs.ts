/** Sandbox runs as a service: record the input, run it, store results and artifacts, update the row. */
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { newId } from "../crypto/hash";
import { AppError } from "../errors";
import { readGovernance } from "../governance";
import { type Db, tables } from "../storage";
import { checkQuota, recordUsage } from "../usage";
import { applyChange, type Change } from "./apply-change";
import { detectCommands, isDetectionInput } from "./detect-checks";
import { detectInstall, lockfilesIn } from "./detect-install";
import { type CancelReason, type CheckedStatus, cancelReasonOf, RUN_CANCELLED, RunCancelled, runStatus } from "./run-status";
import { type Install, type InstallOutcome, RunLimits } from "./runner/protocol";
import { TOOLCHAIN_MISSING } from "./runner/toolchains";
import { type RunEvent, type SandboxOutcome, type SandboxRun, sandboxFor } from "./sandbox";
import { dropSnapshotIfUnused, readSnapshotFiles, snapshotPaths, takeSnapshot } from "./snapshot";
import { type Overlay, snapshotBatches } from "./snapshot-batches";
import { LegacyInput, StoredInput } from "./stored-input";
import { parseUnifiedDiff } from "./unified-diff";

export type RunSummary = {
  runId: string;
  status: CheckedStatus;
  results: SandboxOutcome["results"];
  /** The install phase, when the run had one: installed or cached, its commands' results, the hosts refused. */
  install: InstallOutcome | null;
  artifacts: { path: string; key: string }[];
};

export const runKey = (projectId: string, runId: string, name: string): string => `sandbox/${projectId}/${runId}/${name}`;

/**
 * Takes the project's snapshot (by reference), applies `change` to the files it touches (a change that does
 * not apply throws; nothing runs) and records the run. A replay reuses its original's snapshot and change.
 */
export async function prepareRun(
  env: Env,
  db: Db,
  project: { projectId: string; orgId: string; checkCommands: string | null; installCommands?: string | null },
  change: Change,
  commands: string[] | undefined,
  limits: Partial<RunLimits>,
  replayOf?: { runId: string; request: string; snapshotId: string | null },
): Promise<{ runId: string; input: SandboxRun }> {
  const runId = newId("run");
  let stored: StoredInput | z.infer<typeof LegacyInput>;
  let request: string;
  if (replayOf) {
    const object = await env.CHUNKS.get(runKey(project.projectId, replayOf.runId, "input.json"));
    const parsed = object ? z.union([StoredInput, LegacyInput]).safeParse(await object.json()) : null;
    if (!parsed?.success) throw new AppError(409, "not_replayable", "the run's recorded input is missing");
    stored = parsed.data;
    request = replayOf.request;
  } else {
    const snapshotId = newId("snap");
    await takeSnapshot(db, project.projectId, snapshotId);
    try {
      const overlay = await overlayOf(db, env.CHUNKS, snapshotId, change);
      const paths = await changedPaths(db, snapshotId, overlay);
      // The request's commands, else the project's settings, else what the files suggest.
      const chosen =
        commands ??
        (project.checkCommands
          ? (JSON.parse(project.checkCommands) as string[])
          : detectCommands(await detectionTree(db, env.CHUNKS, snapshotId, overlay, paths)));
      if (chosen.length === 0) {
        throw new AppError(
          400,
          "no_commands",
          "no checks were given, none are set on the project (PATCH checkCommands), and none could be detected from the files",
        );
      }
      const install = await installOf(db, project, paths);
      stored = { snapshotId, overlay, commands: chosen, ...(install ? { install } : {}), limits: RunLimits.parse(limits) };
    } catch (e) {
      await dropSnapshotIfUnused(db, snapshotId);
      throw e;
    }
    request = JSON.stringify({ change, commands: stored.commands, install: stored.install ?? null, limits: stored.limits });
  }
  await env.CHUNKS.put(runKey(project.projectId, runId, "input.json"), JSON.stringify(stored));
  const snapshotId = "snapshotId" in stored ? stored.snapshotId : null;
  await db.insert(tables.sandboxRuns).values({
    runId,
    projectId: project.projectId,
    orgId: project.orgId,
    request,
    status: "running",
    replayOf: replayOf?.runId ?? null,
    snapshotId,
  });
  return { runId, input: { ...sandboxInput(db, env.CHUNKS, stored), runId } };
}

/** What the sandbox is given for a recorded input: the snapshot streamed in batches with the change over it. */
function sandboxInput(db: Db, bucket: R2Bucket, stored: StoredInput | z.infer<typeof LegacyInput>): SandboxRun {
  if (!("snapshotId" in stored)) return stored;
  const { snapshotId, overlay, commands, install, limits } = stored;
  return { workspace: () => snapshotBatches(db, bucket, snapshotId, overlay), commands, ...(install ? { install } : {}), limits };
}

/**
 * The run's install phase: the project's own install commands (every root lockfile keys their cache), else
 * the commands its lockfiles call for; install scripts only where the org allows them. The cache is the org's.
 */
async function installOf(db: Db, project: { orgId: string; installCommands?: string | null }, paths: readonly string[]): Promise<Install | null> {
  const plan = project.installCommands ? { commands: JSON.parse(project.installCommands) as string[], lockfiles: lockfilesIn(paths) } : detectInstall(paths);
  if (!plan) return null;
  const { allowInstallScripts } = await readGovernance(db, project.orgId);
  return { ...plan, allowScripts: allowInstallScripts, scope: project.orgId };
}

/** Every path of the snapshot with the change applied. */
async function changedPaths(db: Db, snapshotId: string, overlay: Overlay): Promise<string[]> {
  const deleted = new Set(overlay.deletions);
  const paths = new Set((await snapshotPaths(db, snapshotId)).filter((p) => !deleted.has(p)));
  for (const f of overlay.files) paths.add(f.path);
  return [...paths];
}

/** The change applied to the snapshot's files it touches (only those are read): what it writes and deletes. */
async function overlayOf(db: Db, bucket: R2Bucket, snapshotId: string, change: Change): Promise<Overlay> {
  const touched = new Set([...change.files.map((f) => f.path), ...change.deletions]);
  if (change.diff) for (const p of parseUnifiedDiff(change.diff)) for (const path of [p.oldPath, p.newPath]) if (path !== null) touched.add(path);
  const { tree, changed } = applyChange(await readSnapshotFiles(db, bucket, snapshotId, [...touched]), change);
  const files = changed.flatMap((path) => {
    const content = tree.get(path);
    return content === undefined ? [] : [{ path, content }];
  });
  return { files, deletions: changed.filter((path) => !tree.has(path)) };
}

/** Every path of the changed tree, with the text of the files detection reads (config and test files) and "" for the rest. */
async function detectionTree(db: Db, bucket: R2Bucket, snapshotId: string, overlay: Overlay, paths: readonly string[]): Promise<Map<string, string>> {
  const texts = await readSnapshotFiles(db, bucket, snapshotId, paths.filter(isDetectionInput));
  const tree = new Map(paths.map((p) => [p, texts.get(p) ?? ""]));
  for (const f of overlay.files) tree.set(f.path, f.content);
  return tree;
}

/** The error of a verification whose dependencies did not install: the change stays unverified, it is not the change's failure. */
export const INSTALL_FAILED = "install_failed";

/**
 * Whether a verification could not judge the change at all (a missing toolchain, dependencies that did not
 * install, the org's sandbox quota used up, the run cancelled): the caller keeps the change unverified instead
 * of repairing it.
 */
export function isUnverifiable(e: unknown): e is AppError {
  return e instanceof AppError && [TOOLCHAIN_MISSING, INSTALL_FAILED, "quota_exceeded", "sandbox_concurrency_limit", RUN_CANCELLED].includes(e.code);
}

/**
 * A run for a caller other than the sandbox routes (the generation loop's verification): refused when the
 * org's sandbox quota (daily minutes, concurrent runs) is used up, and its wall time added to the org's
 * minutes however it ends, as the routes do for their own runs. It belongs to the session's Durable Object,
 * not to a client, so no client leaving stops it (only `POST /api/sandbox/runs/:runId/cancel` does).
 */
export async function verifyChange(
  env: Env,
  db: Db,
  project: Parameters<typeof prepareRun>[2],
  change: Change,
  commands: string[] | undefined,
  onEvent: (e: RunEvent) => void,
): Promise<RunSummary> {
  await checkQuota(db, project.orgId, "sandbox", { projectId: project.projectId });
  const { runId, input } = await prepareRun(env, db, project, change, commands, {});
  const started = Date.now();
  try {
    const summary = await executeRun(env, db, runId, project.projectId, input, onEvent);
    if (summary.install && !summary.install.ok)
      throw new AppError(422, INSTALL_FAILED, `the project's dependencies did not install (sandbox run ${runId}); the change could not be checked`);
    return summary;
  } finally {
    const use = { orgId: project.orgId, projectId: project.projectId, sandboxMs: Date.now() - started, requests: 1 };
    await recordUsage(db, use).catch((e: unknown) => console.error(JSON.stringify({ usage: use, error: String(e) })));
  }
}

/** Only a run still going is updated: one cancelled meanwhile keeps its status. */
const stillRunning = (runId: string) => and(eq(tables.sandboxRuns.runId, runId), eq(tables.sandboxRuns.status, "running"));

/**
 * Runs a recorded input, stores its outcome and artifacts, and returns the summary. `signal` (a standalone run's
 * client leaving) stops the run: it is recorded `cancelled` with the signal's reason, and `RunCancelled` thrown.
 */
export async function executeRun(
  env: Env,
  db: Db,
  runId: string,
  projectId: string,
  input: SandboxRun,
  onEvent: (e: RunEvent) => void,
  signal?: AbortSignal,
): Promise<RunSummary> {
  try {
    signal?.throwIfAborted();
    const artifacts: { path: string; key: string }[] = [];
    // Each artifact goes to R2 as the sandbox reads it: the Worker holds one at a time, not the run's 16 MiB.
    const store = async (f: { path: string; content: string }): Promise<void> => {
      const key = runKey(projectId, runId, `artifacts/${f.path}`);
      await env.CHUNKS.put(key, f.content);
      artifacts.push({ path: f.path, key });
    };
    const outcome = await sandboxFor(env, runId).run(input, onEvent, store, signal);
    for (const f of outcome.changedFiles) await store(f);
    const install = outcome.install ?? null;
    // Dependencies that did not install fail the run: no check ran, so nothing was verified either way.
    const status = install && !install.ok ? "failed" : runStatus(outcome.results);
    await env.CHUNKS.put(runKey(projectId, runId, "results.json"), JSON.stringify(outcome.results));
    if (install) await env.CHUNKS.put(runKey(projectId, runId, "install.json"), JSON.stringify(install));
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
      .where(stillRunning(runId));
    return { runId, status, results: outcome.results, install, artifacts };
  } catch (e) {
    const reason = cancelReasonOf(signal?.aborted ? signal.reason : e);
    if (reason) {
      await db.update(tables.sandboxRuns).set({ status: "cancelled", error: reason, finishedAt: Date.now() }).where(stillRunning(runId));
      throw e instanceof RunCancelled ? e : new RunCancelled(reason);
    }
    const message = e instanceof Error ? e.message : String(e);
    await db.update(tables.sandboxRuns).set({ status: "error", error: message, finishedAt: Date.now() }).where(stillRunning(runId));
    if (e instanceof AppError) throw e;
    throw new AppError(502, "sandbox_failed", message);
  }
}

/**
 * Cancels a run still going, from any request: recorded `cancelled` (`cancelled_by_caller`) at once, which frees
 * its concurrent-run slot, then stopped in the sandbox. False when the run had already ended.
 */
export async function cancelRun(env: Env, db: Db, runId: string, reason: CancelReason = "cancelled_by_caller"): Promise<boolean> {
  const updated = await db
    .update(tables.sandboxRuns)
    .set({ status: "cancelled", error: reason, finishedAt: Date.now() })
    .where(stillRunning(runId))
    .returning({ runId: tables.sandboxRuns.runId });
  if (updated.length === 0) return false;
  // The row says cancelled whatever happens here; a cancellation the sandbox did not get is logged, and the
  // run then stops at its own deadline.
  await Promise.resolve()
    .then(() => sandboxFor(env, runId).cancel(runId))
    .catch((e: unknown) => console.error(JSON.stringify({ sandbox: "cancellation not delivered", runId, error: String(e) })));
  return true;
}
