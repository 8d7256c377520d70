/** Sandbox runs: apply a change to the project snapshot, run its checks, record everything for replay. */
import { and, eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { newId } from "../../../src/lib/crypto/hash";
import { AppError, notFound } from "../../../src/lib/errors";
import { getProject } from "../../../src/lib/projects/projects";
import { applyChange, Change } from "../../../src/lib/sandbox/apply-change";
import { type RunEvent, RunLimits } from "../../../src/lib/sandbox/runner/protocol";
import { type SandboxOutcome, type SandboxRun, sandboxFor } from "../../../src/lib/sandbox/sandbox";
import { detectCommands, projectSnapshot } from "../../../src/lib/sandbox/snapshot";
import { type Db, openDb, tables } from "../../../src/lib/storage";
import type { AppEnv } from "../types";
import { jsonBody } from "../validate";

const StartRun = z.object({
  projectId: z.string().min(1).max(64),
  change: Change.default({ files: [], deletions: [] }),
  commands: z.array(z.string().min(1).max(4096)).min(1).max(20).optional(),
  limits: RunLimits.partial().default({}),
});

const runKey = (projectId: string, runId: string, name: string): string => `sandbox/${projectId}/${runId}/${name}`;

type Summary = {
  runId: string;
  status: "passed" | "failed" | "error";
  results: SandboxOutcome["results"];
  artifacts: { path: string; key: string }[];
  error?: string;
};

/** Runs a recorded input, stores its outcome and artifacts, and returns the summary. */
async function execute(env: Env, db: Db, runId: string, projectId: string, input: SandboxRun, onEvent: (e: RunEvent) => void): Promise<Summary> {
  try {
    const outcome = await sandboxFor(env, runId).run(input, onEvent);
    const artifacts = await Promise.all(
      outcome.changedFiles.map(async (f) => {
        const key = runKey(projectId, runId, `artifacts/${f.path}`);
        await env.CHUNKS.put(key, f.content);
        return { path: f.path, key };
      }),
    );
    const status = outcome.results.every((r) => r.exitCode === 0) ? "passed" : "failed";
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

/** The org's run, or 404 as for a missing one. */
async function findRun(db: Db, runId: string, orgId: string): Promise<typeof tables.sandboxRuns.$inferSelect> {
  const row = await db
    .select()
    .from(tables.sandboxRuns)
    .where(and(eq(tables.sandboxRuns.runId, runId), eq(tables.sandboxRuns.orgId, orgId)))
    .get();
  if (!row) throw notFound("sandbox run");
  return row;
}

/** JSON when the run ends, or NDJSON events as they happen when the client accepts application/x-ndjson. */
function respond(
  c: { req: { header(name: string): string | undefined }; json(body: unknown, status?: 200): Response },
  run: (onEvent: (e: RunEvent) => void) => Promise<unknown>,
): Promise<Response> | Response {
  if (!(c.req.header("accept") ?? "").includes("application/x-ndjson")) return run(() => undefined).then((body) => c.json(body));
  const { readable, writable } = new TransformStream<string, string>();
  const writer = writable.getWriter();
  const write = (o: unknown): void => void writer.write(`${JSON.stringify(o)}\n`);
  run(write)
    .then((summary) => write({ type: "summary", ...(summary as object) }))
    .catch((e: unknown) => write({ type: "error", message: e instanceof Error ? e.message : String(e) }))
    .finally(() => void writer.close());
  return new Response(readable.pipeThrough(new TextEncoderStream()), { headers: { "content-type": "application/x-ndjson" } });
}

export const sandboxRoutes = new Hono<AppEnv>()
  .post("/sandbox/runs", async (c) => {
    const body = await jsonBody(c, StartRun);
    const db = openDb(c.env.DB);
    const project = await getProject(db, body.projectId, c.var.orgId);
    const snapshot = await projectSnapshot(db, c.env.CHUNKS, project.projectId);
    // A change that does not apply is refused here: nothing runs.
    const { tree } = applyChange(snapshot, body.change);
    // The request's commands, else the project's settings, else what the files suggest.
    const commands = body.commands ?? (project.checkCommands ? (JSON.parse(project.checkCommands) as string[]) : detectCommands(tree));
    if (commands.length === 0)
      throw new AppError(400, "no_commands", "no checks were given and none could be detected from the files (package.json scripts, Python, Go or Cargo)");
    const input: SandboxRun = { files: [...tree].map(([path, content]) => ({ path, content })), commands, limits: RunLimits.parse(body.limits) };
    const runId = newId("run");
    await c.env.CHUNKS.put(runKey(project.projectId, runId, "input.json"), JSON.stringify(input));
    await db.insert(tables.sandboxRuns).values({
      runId,
      projectId: project.projectId,
      orgId: c.var.orgId,
      request: JSON.stringify({ change: body.change, commands, limits: input.limits }),
      status: "running",
    });
    return respond(c, (onEvent) => execute(c.env, db, runId, project.projectId, input, onEvent));
  })
  .get("/sandbox/runs/:runId", async (c) => {
    const row = await findRun(openDb(c.env.DB), c.req.param("runId"), c.var.orgId);
    const results = await c.env.CHUNKS.get(runKey(row.projectId, row.runId, "results.json"));
    return c.json({
      runId: row.runId,
      projectId: row.projectId,
      status: row.status,
      replayOf: row.replayOf,
      request: JSON.parse(row.request),
      results: results ? await results.json() : null,
      artifacts: row.artifacts ? JSON.parse(row.artifacts) : [],
      error: row.error,
      createdAt: new Date(row.createdAt).toISOString(),
      finishedAt: row.finishedAt ? new Date(row.finishedAt).toISOString() : null,
    });
  })
  .post("/sandbox/runs/:runId/replay", async (c) => {
    const db = openDb(c.env.DB);
    const original = await findRun(db, c.req.param("runId"), c.var.orgId);
    const stored = await c.env.CHUNKS.get(runKey(original.projectId, original.runId, "input.json"));
    if (!stored) throw new AppError(409, "not_replayable", "the run's recorded input is missing");
    const input = (await stored.json()) as SandboxRun;
    const runId = newId("run");
    await c.env.CHUNKS.put(runKey(original.projectId, runId, "input.json"), JSON.stringify(input));
    await db
      .insert(tables.sandboxRuns)
      .values({ runId, projectId: original.projectId, orgId: c.var.orgId, request: original.request, status: "running", replayOf: original.runId });
    const before = JSON.parse(original.results ?? "[]") as { command: string; exitCode: number | null }[];
    return respond(c, async (onEvent) => {
      const summary = await execute(c.env, db, runId, original.projectId, input, onEvent);
      const differences = summary.results.flatMap((r, i) =>
        before[i]?.exitCode === r.exitCode ? [] : [{ command: r.command, before: before[i]?.exitCode ?? null, now: r.exitCode }],
      );
      return { ...summary, replayOf: original.runId, sameOutcome: original.status === summary.status && differences.length === 0, differences };
    });
  });
