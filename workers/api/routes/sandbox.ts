/** Sandbox runs: apply a change to the project snapshot, run its checks, record everything for replay. */
import { and, eq } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { type Access, mayTouch } from "../../../src/lib/auth";
import { CancelledRun, ReplaySummary, RunEvent as RunEventSchema, RunSummary, RunView, StartRun } from "../../../src/lib/contract/sandbox";
import { AppError, envelopeOf, notFound } from "../../../src/lib/errors";
import { getProject } from "../../../src/lib/projects/projects";
import { RunCancelled } from "../../../src/lib/sandbox/run-status";
import type { RunEvent } from "../../../src/lib/sandbox/runner/protocol";
import { cancelRun, executeRun, prepareRun, runKey } from "../../../src/lib/sandbox/runs";
import { dropSnapshotIfUnused } from "../../../src/lib/sandbox/snapshot";
import { type Db, openDb, tables } from "../../../src/lib/storage";
import { guardQuota, meter } from "../metering";
import { need } from "../middleware/auth";
import { describe } from "../openapi";
import type { AppEnv } from "../types";
import { jsonOf } from "../validate";

/** The caller's run, or 404 as for a missing one. */
async function findRun(db: Db, runId: string, access: Access): Promise<typeof tables.sandboxRuns.$inferSelect> {
  const row = await db
    .select()
    .from(tables.sandboxRuns)
    .where(and(eq(tables.sandboxRuns.runId, runId), eq(tables.sandboxRuns.orgId, access.orgId)))
    .get();
  if (!row || !mayTouch(access, row.projectId)) throw notFound("sandbox run");
  return row;
}

/** Every object under `prefix` (a run's input, results and artifacts), a listing page at a time. */
async function deleteObjects(bucket: R2Bucket, prefix: string): Promise<void> {
  for (;;) {
    const listed = await bucket.list({ prefix, limit: 1000 });
    if (listed.objects.length > 0) await bucket.delete(listed.objects.map((o) => o.key));
    if (!listed.truncated) return;
  }
}

/**
 * JSON when the run ends, or NDJSON events as they happen when the client accepts application/x-ndjson. The
 * run belongs to its client: when the client goes (the request is aborted, or the event stream cancelled) the
 * run is stopped. Its bookkeeping (status, minutes) runs under waitUntil, so it completes after the client left.
 */
function respond(c: Context<AppEnv>, run: (onEvent: (e: RunEvent) => void, signal: AbortSignal) => Promise<unknown>): Promise<Response> | Response {
  const gone = new AbortController();
  const leave = (): void => gone.abort(new RunCancelled("client_gone"));
  c.req.raw.signal.addEventListener("abort", leave, { once: true });
  if (!(c.req.header("accept") ?? "").includes("application/x-ndjson")) {
    const done = run(() => undefined, gone.signal);
    c.executionCtx.waitUntil(done.catch(() => undefined));
    return done.then((body) => c.json(body));
  }
  const { readable, writable } = new TransformStream<string, string>();
  const writer = writable.getWriter();
  // The stream's reader cancelled it: the writable side errors, and nothing more can reach the client.
  writer.closed.catch(leave);
  const write = (o: unknown): void => void writer.write(`${JSON.stringify(o)}\n`).catch(() => undefined);
  const done = run(write, gone.signal)
    .then((summary) => write({ type: "summary", ...(summary as object) }))
    // The same envelope as an HTTP error, on its own line.
    .catch((e: unknown) => write({ type: "error", ...envelopeOf(e, c.var.requestId) }))
    .finally(() => void writer.close().catch(() => undefined));
  c.executionCtx.waitUntil(done);
  return new Response(readable.pipeThrough(new TextEncoderStream()), { headers: { "content-type": "application/x-ndjson" } });
}

/** Runs `run`, adding its wall time to the caller's sandbox minutes however it ends. */
async function timed<T>(c: Context<AppEnv>, projectId: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await run();
  } finally {
    meter(c, { projectId, sandboxMs: Date.now() - started, requests: 1 });
  }
}

export const sandboxRoutes = new Hono<AppEnv>()
  .post(
    "/sandbox/runs",
    describe({
      summary: "Apply a change to the project's snapshot and run its checks in the sandbox",
      tags: ["sandbox"],
      caller: "sandbox",
      responses: { 200: { json: RunSummary, ndjson: RunEventSchema } },
    }),
    need("sandbox"),
    jsonOf(StartRun),
    async (c) => {
      const body = c.req.valid("json");
      const db = openDb(c.env.DB);
      const project = await getProject(db, body.projectId, c.var.key);
      await guardQuota(c, "sandbox");
      const { runId, input } = await prepareRun(c.env, db, project, body.change, body.commands, body.limits);
      return respond(c, (onEvent, signal) => timed(c, project.projectId, () => executeRun(c.env, db, runId, project.projectId, input, onEvent, signal)));
    },
  )
  .get(
    "/sandbox/runs/:runId",
    describe({ summary: "A sandbox run's request, results and artifacts", tags: ["sandbox"], caller: "read", responses: { 200: RunView } }),
    need("read"),
    async (c) => {
      const row = await findRun(openDb(c.env.DB), c.req.param("runId"), c.var.key);
      const results = await c.env.CHUNKS.get(runKey(row.projectId, row.runId, "results.json"));
      const install = await c.env.CHUNKS.get(runKey(row.projectId, row.runId, "install.json"));
      return c.json({
        runId: row.runId,
        projectId: row.projectId,
        status: row.status,
        replayOf: row.replayOf,
        request: JSON.parse(row.request),
        results: results ? await results.json() : null,
        install: install ? await install.json() : null,
        artifacts: row.artifacts ? JSON.parse(row.artifacts) : [],
        error: row.error,
        createdAt: new Date(row.createdAt).toISOString(),
        finishedAt: row.finishedAt ? new Date(row.finishedAt).toISOString() : null,
      });
    },
  )
  .delete(
    "/sandbox/runs/:runId",
    describe({ summary: "Delete a finished run and its stored objects", tags: ["sandbox"], caller: "sandbox", responses: { 204: null } }),
    need("sandbox"),
    async (c) => {
      const db = openDb(c.env.DB);
      const row = await findRun(db, c.req.param("runId"), c.var.key);
      // A run still going would write its results and artifacts after they were deleted.
      if (row.status === "running") throw new AppError(409, "run_in_progress", "the run has not finished; delete it once it has");
      await deleteObjects(c.env.CHUNKS, runKey(row.projectId, row.runId, ""));
      await db.delete(tables.sandboxRuns).where(eq(tables.sandboxRuns.runId, row.runId));
      if (row.snapshotId) await dropSnapshotIfUnused(db, row.snapshotId);
      return c.body(null, 204);
    },
  )
  .post(
    "/sandbox/runs/:runId/cancel",
    describe({
      summary: "Stop a run still going: recorded cancelled at once (its concurrent-run slot freed), its commands killed",
      tags: ["sandbox"],
      caller: "sandbox",
      responses: { 200: CancelledRun },
    }),
    need("sandbox"),
    async (c) => {
      const db = openDb(c.env.DB);
      const row = await findRun(db, c.req.param("runId"), c.var.key);
      if (!(await cancelRun(c.env, db, row.runId))) throw new AppError(409, "run_not_running", `the run has already ended (${row.status})`);
      return c.json({ runId: row.runId, status: "cancelled" as const, reason: "cancelled_by_caller" as const });
    },
  )
  .post(
    "/sandbox/runs/:runId/replay",
    describe({
      summary: "Run a recorded run again and compare the outcomes",
      tags: ["sandbox"],
      caller: "sandbox",
      responses: { 200: { json: ReplaySummary, ndjson: RunEventSchema } },
    }),
    need("sandbox"),
    async (c) => {
      const db = openDb(c.env.DB);
      const original = await findRun(db, c.req.param("runId"), c.var.key);
      await guardQuota(c, "sandbox");
      const { runId, input } = await prepareRun(
        c.env,
        db,
        { projectId: original.projectId, orgId: c.var.orgId, checkCommands: null },
        { files: [], deletions: [] },
        undefined,
        {},
        original,
      );
      const before = JSON.parse(original.results ?? "[]") as { command: string; exitCode: number | null }[];
      return respond(c, async (onEvent, signal) => {
        const summary = await timed(c, original.projectId, () => executeRun(c.env, db, runId, original.projectId, input, onEvent, signal));
        const differences = summary.results.flatMap((r, i) =>
          before[i]?.exitCode === r.exitCode ? [] : [{ command: r.command, before: before[i]?.exitCode ?? null, now: r.exitCode }],
        );
        return { ...summary, replayOf: original.runId, sameOutcome: original.status === summary.status && differences.length === 0, differences };
      });
    },
  );
