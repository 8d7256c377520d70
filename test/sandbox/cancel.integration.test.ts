/**
 * A run belongs to its client: a standalone run or replay whose client goes away is stopped (the runner kills
 * its commands and frees its slot), recorded `cancelled` with the reason `client_gone`, and charged for the time
 * it ran; `POST …/cancel` stops one from another request. A run the generation loop starts for a session
 * belongs to the session and goes on when a client drops.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { RunCancelled } from "../../src/lib/sandbox/run-status";
import { LocalRunnerSandbox } from "../../src/lib/sandbox/sandbox";
import { ADMIN, api, ingestTree, json, newOrg } from "../support/api";

type RunnerRuns = { runs: { runId: string; uid: number; processes: number }[]; free: { uid: number; processes: number }[] };
type RunRow = { status: string; error: string | null };

const files = [
  { path: "package.json", content: JSON.stringify({ name: "t", scripts: { test: "node test.js" } }) },
  { path: "test.js", content: "console.log('ok')\n" },
];
// Prints a line once it is running, then outlives any test by far unless it is killed.
const LONG = "echo started; sleep 300; echo finished";
const limits = { cpuSeconds: 10, memoryMb: 512, processes: 32, outputBytes: 64 * 1024, wallSeconds: 600, workspaceMb: 128 };

const runnerUrl = env.SANDBOX_RUNNER_URL ?? "";
const runnerAuth = { authorization: `Bearer ${env.SANDBOX_RUNNER_SECRET ?? ""}` };
const runnerRuns = async (): Promise<RunnerRuns> => json<RunnerRuns>(await fetch(`${runnerUrl}/runs`, { headers: runnerAuth }), 200);

const start = (body: unknown, init: { token?: string; ndjson?: boolean; signal?: AbortSignal } = {}) =>
  api("/api/sandbox/runs", {
    method: "POST",
    token: init.token ?? ADMIN,
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", ...(init.ndjson ? { accept: "application/x-ndjson" } : {}) },
    ...(init.signal ? { signal: init.signal } : {}),
  });
const setLimits = (orgId: string, token: string, body: unknown) =>
  api(`/api/orgs/${orgId}/limits`, { method: "PUT", token, body: JSON.stringify(body), headers: { "content-type": "application/json" } });
const post = (path: string, body: unknown) => api(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
const reply = (match: string, text: string) => fetch(`${env.ANTHROPIC_BASE_URL}/__reply?match=${encodeURIComponent(match)}`, { method: "PUT", body: text });
const cancel = (runId: string, token = ADMIN) => api(`/api/sandbox/runs/${runId}/cancel`, { method: "POST", token });

async function until<T>(probe: () => Promise<T | undefined | null | false>, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads NDJSON lines from the stream until one matches; the reader stays open. */
async function readUntil(reader: ReadableStreamDefaultReader<string>, match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>[]> {
  const seen: Record<string, unknown>[] = [];
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the stream ended first: ${JSON.stringify(seen)}`);
    buffered += value;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const l of lines.filter(Boolean)) {
      const line = JSON.parse(l) as Record<string, unknown>;
      seen.push(line);
      if (match(line)) return seen;
    }
  }
}

const startedLine = (l: Record<string, unknown>): boolean => l.type === "output" && String(l.data).includes("started");

/** The project's one run going, from D1 (the API names the run only in its summary). */
const runningRun = (projectId: string) =>
  until(
    async () =>
      (await env.DB.prepare("SELECT run_id FROM sandbox_runs WHERE project_id = ? AND status = 'running'").bind(projectId).first<{ run_id: string }>())?.run_id,
    "the run's row",
  );
const runRow = (runId: string) => env.DB.prepare("SELECT status, error FROM sandbox_runs WHERE run_id = ?").bind(runId).first<RunRow>();

/** The runner lists the run with its command's processes alive; returns its uid. */
async function liveOnRunner(runId: string): Promise<number> {
  const run = await until(async () => (await runnerRuns()).runs.find((r) => r.runId === runId && r.processes > 0), "the run's processes on the runner");
  return run.uid;
}

/** The runner has let go of the run and no process of its uid is left: the command was killed, not finished. */
async function goneFromRunner(runId: string, uid: number): Promise<void> {
  await until(async () => !(await runnerRuns()).runs.some((r) => r.runId === runId), "the run to leave the runner");
  await until(async () => {
    const listed = await runnerRuns();
    const slot = [...listed.runs, ...listed.free].find((s) => s.uid === uid);
    return slot?.processes === 0;
  }, "the run's processes to be gone");
}

async function orgWithProject(name: string) {
  const org = await newOrg(name);
  const projectId = await ingestTree(files, {}, org.apiKey);
  await json(await setLimits(org.orgId, org.apiKey, { concurrentSandboxRuns: 1 }), 200);
  return { org, projectId };
}

describe("a run whose client goes away", () => {
  it("is stopped when its event stream is cancelled: killed on the runner, recorded cancelled, charged, its slot freed", async () => {
    const { org, projectId } = await orgWithProject("cancel-stream");
    const client = new AbortController();
    const res = await start({ projectId, commands: [LONG], limits }, { token: org.apiKey, ndjson: true, signal: client.signal });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    await readUntil(reader, startedLine);
    const runId = await runningRun(projectId);
    const uid = await liveOnRunner(runId);
    // The org's one slot is taken while it runs.
    expect((await json<{ error: { code: string } }>(await start({ projectId, commands: ["true"] }, { token: org.apiKey }), 429)).error.code).toBe(
      "sandbox_concurrency_limit",
    );

    await reader.cancel();
    client.abort();

    await goneFromRunner(runId, uid);
    expect(await until(async () => ((await runRow(runId))?.status === "cancelled" ? runRow(runId) : null), "the cancelled status")).toEqual({
      status: "cancelled",
      error: "client_gone",
    });
    const view = await json<{ status: string; error: string; finishedAt: string | null }>(await api(`/api/sandbox/runs/${runId}`, { token: org.apiKey }), 200);
    expect(view).toMatchObject({ status: "cancelled", error: "client_gone", finishedAt: expect.any(String) });
    // The minutes it ran are charged (recorded after the answer, under waitUntil).
    const used = await until(
      async () => (await env.DB.prepare("SELECT sum(sandbox_ms) AS ms FROM usage_daily WHERE org_id = ?").bind(org.orgId).first<{ ms: number | null }>())?.ms,
      "the run's sandbox time",
    );
    expect(used).toBeGreaterThan(0);
    // The slot is free again: the next run is accepted at a limit of one.
    expect((await json<{ status: string }>(await start({ projectId, commands: ["true"] }, { token: org.apiKey }), 200)).status).toBe("passed");
  });

  it("is stopped when a client waiting for the JSON answer disconnects", async () => {
    const { org, projectId } = await orgWithProject("cancel-json");
    const client = new AbortController();
    const answer = start({ projectId, commands: [LONG], limits }, { token: org.apiKey, signal: client.signal }).catch((e: unknown) => e);
    const runId = await runningRun(projectId);
    const uid = await liveOnRunner(runId);
    client.abort();
    await answer;
    await goneFromRunner(runId, uid);
    expect(await until(async () => ((await runRow(runId))?.status === "cancelled" ? runRow(runId) : null), "the cancelled status")).toEqual({
      status: "cancelled",
      error: "client_gone",
    });
    expect((await json<{ status: string }>(await start({ projectId, commands: ["true"] }, { token: org.apiKey }), 200)).status).toBe("passed");
  });

  it("is stopped when it is a replay whose event stream is cancelled", async () => {
    const { org, projectId } = await orgWithProject("cancel-replay");
    const first = await start({ projectId, commands: [LONG], limits }, { token: org.apiKey, ndjson: true });
    const firstReader = (first.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    await readUntil(firstReader, startedLine);
    const original = await runningRun(projectId);
    await json(await cancel(original, org.apiKey), 200);
    await readUntil(firstReader, (l) => l.type === "error");
    await until(async () => !(await runnerRuns()).runs.some((r) => r.runId === original), "the original to leave the runner");

    const res = await api(`/api/sandbox/runs/${original}/replay`, { method: "POST", token: org.apiKey, headers: { accept: "application/x-ndjson" } });
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    await readUntil(reader, startedLine);
    const replay = await runningRun(projectId);
    const uid = await liveOnRunner(replay);
    await reader.cancel();
    await goneFromRunner(replay, uid);
    expect(await until(async () => ((await runRow(replay))?.status === "cancelled" ? runRow(replay) : null), "the cancelled status")).toEqual({
      status: "cancelled",
      error: "client_gone",
    });
  });

  it("is stopped in the runner when the sandbox's caller aborts, with RunCancelled as the outcome", async () => {
    const client = new AbortController();
    const runId = `run_direct_${crypto.randomUUID().slice(0, 8)}`;
    const events: string[] = [];
    const outcome = new LocalRunnerSandbox(runnerUrl, env.SANDBOX_RUNNER_SECRET ?? "")
      .run(
        { runId, files: [{ path: "a.txt", content: "a\n" }], commands: [LONG], limits },
        (e) => {
          if (e.type === "output") events.push(e.data);
        },
        undefined,
        client.signal,
      )
      .catch((e: unknown) => e);
    const uid = await liveOnRunner(runId);
    client.abort(new RunCancelled("client_gone"));
    expect(await outcome).toMatchObject({ code: "run_cancelled", reason: "client_gone" });
    await goneFromRunner(runId, uid);
    expect(events.join("")).not.toContain("finished");
  });
});

describe("POST /api/sandbox/runs/:runId/cancel", () => {
  it("stops a run from another request: cancelled at once, the streaming client told, the runner's commands killed", async () => {
    const { org, projectId } = await orgWithProject("cancel-explicit");
    const res = await start({ projectId, commands: [LONG], limits }, { token: org.apiKey, ndjson: true });
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    await readUntil(reader, startedLine);
    const runId = await runningRun(projectId);
    const uid = await liveOnRunner(runId);

    // Another org and a read-only key cannot touch it.
    const other = await newOrg("cancel-other");
    await json(await cancel(runId, other.apiKey), 404);
    const readOnly = await json<{ apiKey: string }>(
      await api("/api/keys", {
        method: "POST",
        token: org.apiKey,
        body: JSON.stringify({ name: "r", scopes: ["read"] }),
        headers: { "content-type": "application/json" },
      }),
      201,
    );
    await json(await cancel(runId, readOnly.apiKey), 403);
    expect((await runRow(runId))?.status).toBe("running");

    expect(await json(await cancel(runId, org.apiKey), 200)).toEqual({ runId, status: "cancelled", reason: "cancelled_by_caller" });
    expect(await runRow(runId)).toEqual({ status: "cancelled", error: "cancelled_by_caller" });
    const last = (await readUntil(reader, (l) => l.type === "error" || l.type === "summary")).at(-1);
    expect(last).toMatchObject({ type: "error", error: { code: "run_cancelled" } });
    await goneFromRunner(runId, uid);
    // Still cancelled (the ending run did not overwrite it), and a run that ended cannot be cancelled.
    expect(await runRow(runId)).toEqual({ status: "cancelled", error: "cancelled_by_caller" });
    expect((await json<{ error: { code: string } }>(await cancel(runId, org.apiKey), 409)).error.code).toBe("run_not_running");
    await json(await cancel("run_missing", org.apiKey), 404);
    // Its slot is free.
    expect((await json<{ status: string }>(await start({ projectId, commands: ["true"] }, { token: org.apiKey }), 200)).status).toBe("passed");
  });

  it("asks the runner for its secret and answers 404 for a run it does not have", async () => {
    await json(await fetch(`${runnerUrl}/runs`), 401);
    await json(await fetch(`${runnerUrl}/runs/run_nothing`, { method: "DELETE", headers: runnerAuth }), 404);
  });
});

describe("a run that belongs to a session", () => {
  it("goes on when the session's clients drop: its WebSocket closes and the generate request is abandoned", async () => {
    const projectId = await ingestTree(files);
    const { sessionId } = await json<{ sessionId: string }>(await post("/api/sessions", { projectId }), 201);
    const marker = `m-${crypto.randomUUID()}`;
    await reply(`${marker}\n\nAnswer with JSON only`, JSON.stringify({ summary: "log more", steps: [{ description: "log more", files: ["test.js"] }] }));
    await reply(`${marker}\n\nPlan:`, JSON.stringify({ files: [{ path: "test.js", content: "console.log('ok, more')\n" }], sources: [] }));
    const socket = await SELF.fetch(`https://winky.test/api/sessions/${sessionId}/ws`, { headers: { upgrade: "websocket", authorization: `Bearer ${ADMIN}` } });
    const ws = socket.webSocket;
    if (!ws) throw new Error("no WebSocket");
    ws.accept();
    const frames: { type: string; data: unknown }[] = [];
    ws.addEventListener("message", (m) => {
      frames.push(JSON.parse(String(m.data)) as { type: string; data: unknown });
    });
    const client = new AbortController();
    const generation = api("/api/ai/generate-prototype", {
      method: "POST",
      body: JSON.stringify({ projectId, sessionId, prompt: `Log more ${marker}`, commands: ["echo started; sleep 5; node test.js"] }),
      headers: { "content-type": "application/json" },
      signal: client.signal,
    }).catch((e: unknown) => e);
    await until(async () => frames.some((f) => f.type === "sandbox" && JSON.stringify(f.data).includes("started")), "the verification run to start");
    const runId = await runningRun(projectId);
    ws.close(1000, "going away");
    client.abort();
    await generation;
    const ended = await until(async () => {
      const row = await runRow(runId);
      return row?.status === "running" ? null : row;
    }, "the session's run to end");
    expect(ended).toEqual({ status: "passed", error: null });
  });
});
