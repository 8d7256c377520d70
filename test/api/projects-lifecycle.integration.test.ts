import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type DeletionDeps, projectPrefixes, runDeletionStep } from "../../src/lib/projects/delete-project";
import { ADMIN, api, createProject, ingestTree, json, newOrg, waitForJob } from "../support/api";
import { type TreeFile, tarGz } from "../support/archives";

type ListItem = {
  projectId: string;
  name: string;
  files: number;
  tokens: number;
  lastJob: { jobId: string; source: string; status: string; createdAt: string; finishedAt: string | null } | null;
  freshness: { basis: string; at: string } | null;
};
type Page = { projects: ListItem[]; nextCursor: string | null };
type ErrorBody = { error: { code: string } };

const send = (method: string, path: string, body?: unknown, token = ADMIN) =>
  api(path, { method, token, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }) });

const newOrgKey = async (name: string): Promise<string> => (await newOrg(name)).apiKey;

/** Uploads `files` into the project as `token`'s org and waits for the job; answers the job id. */
async function ingestAs(token: string, projectId: string, files: TreeFile[]): Promise<string> {
  const { jobId } = await json<{ jobId: string }>(
    await api(`/api/projects/${projectId}/ingest`, { method: "POST", token, body: await tarGz(files), headers: { "content-type": "application/gzip" } }),
    202,
  );
  expect((await waitForJob(jobId, token)).status).toBe("done");
  return jobId;
}

const tree = (tag: string): TreeFile[] => [
  { path: "README.md", content: `# ${tag}\n\nThe ${tag} project adds numbers.\n` },
  { path: "src/calc.js", content: `exports.add${tag} = (a, b) => a + b; // ${tag} arithmetic\n` },
  { path: "test.js", content: `const { add${tag} } = require('./src/calc');\nif (add${tag}(2, 3) !== 5) process.exit(1);\n` },
];

const tick = () => new Promise((r) => setTimeout(r, 5));

// Every catalog table keyed by project, with the column that holds the key.
const PROJECT_TABLES = [
  "files",
  "chunks",
  "retired_chunks",
  "summaries",
  "context_sessions",
  "ingest_jobs",
  "sandbox_runs",
  "sessions",
  "uploads",
  "projects",
] as const;

async function rowsOf(projectId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of PROJECT_TABLES) {
    out[t] = (await env.DB.prepare(`SELECT count(*) AS n FROM ${t} WHERE project_id = ?`).bind(projectId).first<{ n: number }>())?.n ?? -1;
  }
  out.job_batches =
    (
      await env.DB.prepare("SELECT count(*) AS n FROM job_batches WHERE job_id IN (SELECT job_id FROM ingest_jobs WHERE project_id = ?)")
        .bind(projectId)
        .first<{ n: number }>()
    )?.n ?? -1;
  return out;
}

/** The rows a neighbour's own activity (audit rows of its assemblies, summaries its shard derives later) does not change. */
const ingested = (r: Record<string, number>) => ({
  files: r.files,
  chunks: r.chunks,
  ingest_jobs: r.ingest_jobs,
  job_batches: r.job_batches,
  projects: r.projects,
});

async function objectsUnder(projectId: string): Promise<string[]> {
  const keys: string[] = [];
  for (const prefix of projectPrefixes(projectId)) keys.push(...(await env.CHUNKS.list({ prefix })).objects.map((o) => o.key));
  return keys;
}

/** User tables left in a Durable Object's SQLite (the runtime's own `_cf_` tables aside) with their row counts. */
function tablesIn(sql: SqlStorage): Record<string, number> {
  const out: Record<string, number> = {};
  const names = sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )
    .toArray();
  for (const { name } of names) out[name] = sql.exec<{ n: number }>(`SELECT count(*) AS n FROM "${name}"`).one().n;
  return out;
}

describe("GET /api/projects", () => {
  it("pages the org's projects newest first with files, tokens, the last job and freshness", async () => {
    const token = await newOrgKey("lister");
    const first = await createProject(token, { name: "first" });
    const firstJob = await ingestAs(token, first, tree("One"));
    await tick();
    const second = await createProject(token, { name: "second" });
    await ingestAs(token, second, tree("Two"));
    await tick();
    const empty = await createProject(token, { name: "empty" });

    const page1 = await json<Page>(await api("/api/projects?limit=2", { token }), 200);
    expect(page1.projects.map((p) => p.projectId)).toEqual([empty, second]);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = await json<Page>(await api(`/api/projects?limit=2&cursor=${page1.nextCursor}`, { token }), 200);
    expect(page2.projects.map((p) => p.projectId)).toEqual([first]);
    expect(page2.nextCursor).toBeNull();

    const [none, two] = page1.projects;
    expect(none).toMatchObject({ name: "empty", files: 0, tokens: 0, lastJob: null, freshness: null });
    const files = await json<{ files: { tokenCount: number }[] }>(await api(`/api/projects/${second}/files`, { token }), 200);
    expect(two).toMatchObject({ name: "second", files: 3, tokens: files.files.reduce((n, f) => n + f.tokenCount, 0) });
    expect(two?.tokens).toBeGreaterThan(0);
    expect(two?.lastJob).toMatchObject({ source: "upload", status: "done", finishedAt: expect.any(String) });
    expect(two?.freshness).toEqual({ basis: "upload", at: two?.lastJob?.createdAt });

    const one = page2.projects[0];
    expect(one?.lastJob?.jobId).toBe(firstJob);
    // A later push job makes a webhook-fed project as fresh as the push, and it is the last job.
    const pushedAt = Date.now() + 60_000;
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO ingest_jobs (job_id, project_id, org_id, source, batch_count, files_total, files_unchanged, files_ignored, created_at) SELECT 'job_push_test', project_id, org_id, 'webhook', 1, 1, 0, 0, ? FROM projects WHERE project_id = ?",
      ).bind(pushedAt, first),
      env.DB.prepare("INSERT INTO job_batches (job_id, seq, status, attempts) VALUES ('job_push_test', 0, 'queued', 1)"),
    ]);
    const again = await json<Page>(await api(`/api/projects?limit=2&cursor=${page1.nextCursor}`, { token }), 200);
    expect(again.projects[0]?.lastJob).toMatchObject({ jobId: "job_push_test", source: "webhook", status: "running", finishedAt: null });
    expect(again.projects[0]?.freshness).toEqual({ basis: "push", at: new Date(pushedAt).toISOString() });
    await env.DB.prepare("UPDATE job_batches SET status = 'failed' WHERE job_id = 'job_push_test'").run();
    expect((await json<Page>(await api(`/api/projects?limit=2&cursor=${page1.nextCursor}`, { token }), 200)).projects[0]?.lastJob?.status).toBe("failed");

    // The default page holds all three; another org sees none of them.
    expect((await json<Page>(await api("/api/projects", { token }), 200)).projects.map((p) => p.projectId)).toEqual([empty, second, first]);
    const stranger = await newOrgKey("stranger");
    expect(await json<Page>(await api("/api/projects", { token: stranger }), 200)).toEqual({ projects: [], nextCursor: null });
  });

  it("refuses a limit over 100 and a cursor it did not issue", async () => {
    expect((await json<ErrorBody>(await api("/api/projects?limit=101"), 400)).error.code).toBe("invalid_request");
    expect((await json<ErrorBody>(await api("/api/projects?limit=0"), 400)).error.code).toBe("invalid_request");
    expect((await json<ErrorBody>(await api("/api/projects?cursor=bm90LWEtY3Vyc29y"), 400)).error.code).toBe("invalid_cursor");
  });
});

describe("DELETE /api/projects/:id", () => {
  it("removes every row, object, shard and session the project owns, and nothing of its neighbour", async () => {
    const victim = await ingestTree(tree("Victim"));
    const neighbour = await ingestTree(tree("Neighbour"));
    const neighbourBefore = await rowsOf(neighbour);
    expect(neighbourBefore).toMatchObject({ files: 3, chunks: 3, projects: 1 });
    const neighbourObjects = await objectsUnder(neighbour);
    expect(neighbourObjects.length).toBeGreaterThan(0);

    // A session with a non-empty hot window, and a socket open on it.
    const session = await json<{ sessionId: string }>(await send("POST", "/api/sessions", { projectId: victim }), 201);
    await json(await send("POST", `/api/sessions/${session.sessionId}/assemble`, { prompt: "how does addVictim add numbers", budget: 8000 }), 200);
    const ws = (
      await SELF.fetch(`https://winky.test/api/sessions/${session.sessionId}/ws`, { headers: { upgrade: "websocket", authorization: `Bearer ${ADMIN}` } })
    ).webSocket;
    if (!ws) throw new Error("no WebSocket");
    ws.accept();
    let closed: number | undefined;
    ws.addEventListener("close", (e) => {
      closed = e.code;
    });
    await runInDurableObject(env.SESSION.getByName(session.sessionId), async (_o, state) => {
      expect(tablesIn(state.storage.sql)).toMatchObject({ session: 1, hot_window: expect.any(Number), events: expect.any(Number) });
      expect(tablesIn(state.storage.sql).hot_window).toBeGreaterThan(0);
    });

    // A finished sandbox run with an artifact.
    const run = await json<{ runId: string; status: string; artifacts: { key: string }[] }>(
      await send("POST", "/api/sandbox/runs", { projectId: victim, commands: ["node test.js", "echo built > out.txt"] }),
      200,
    );
    expect(run.status).toBe("passed");
    expect(run.artifacts).toHaveLength(1);

    // An open multipart upload, a staged batch left behind, an audit row and a retired chunk.
    const mpu = await env.CHUNKS.createMultipartUpload(`uploads/${victim}/upl_open`);
    await mpu.uploadPart(1, "part one");
    await env.CHUNKS.put(`staging/${victim}/job_left/0.json`, "{}");
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO uploads (upload_id, project_id, org_id, r2_key, r2_upload_id, format, status) SELECT 'upl_open', project_id, org_id, ?, ?, 'tar.gz', 'open' FROM projects WHERE project_id = ?",
      ).bind(mpu.key, mpu.uploadId, victim),
      env.DB.prepare(
        "INSERT INTO context_sessions (session_id, project_id, org_id, chunks_used, tokens_at_call, model) SELECT 'gen_audit', project_id, org_id, '[]', 10, 'm' FROM projects WHERE project_id = ?",
      ).bind(victim),
      env.DB.prepare(
        "INSERT INTO retired_chunks (chunk_id, project_id, path, ordinal, start_line, end_line, byte_offset, byte_length, token_count, sha256, r2_key, type, created_at, retired_at) VALUES ('chk_retired', ?1, 'old.js', 0, 1, 1, 0, 1, 1, 'x', 'projects/' || ?1 || '/chunks/x', 'code', 1, 2)",
      ).bind(victim),
    ]);

    const before = await rowsOf(victim);
    for (const t of ["files", "chunks", "retired_chunks", "summaries", "context_sessions", "ingest_jobs", "job_batches", "sandbox_runs", "sessions", "uploads"])
      expect(before[t], t).toBeGreaterThan(0);
    await runInDurableObject(env.PROJECT_INDEX.getByName(victim), async (_o, state) => {
      expect(tablesIn(state.storage.sql).chunks).toBeGreaterThan(0);
    });

    // Another org cannot delete it, and it survives that attempt.
    const stranger = await newOrgKey("stranger");
    expect((await json<ErrorBody>(await send("DELETE", `/api/projects/${victim}`, undefined, stranger), 404)).error.code).toBe("not_found");
    await json(await api(`/api/projects/${victim}`), 200);

    const { jobId } = await json<{ jobId: string }>(await send("DELETE", `/api/projects/${victim}`), 202);
    // Missing at once, everywhere, before the job has run.
    await json(await api(`/api/projects/${victim}`), 404);
    await json(await api(`/api/projects/${victim}/files`), 404);
    await json(await send("POST", "/api/sessions", { projectId: victim }), 404);
    await json(await send("POST", "/api/context/assemble", { projectId: victim, prompt: "add" }), 404);
    expect((await json<Page>(await api("/api/projects?limit=100"), 200)).projects.some((p) => p.projectId === victim)).toBe(false);
    expect((await json<ErrorBody>(await send("DELETE", `/api/projects/${victim}`), 404)).error.code).toBe("not_found");

    const job = await waitForJob(jobId);
    expect(job).toMatchObject({ status: "done", errors: [] });
    expect(job.files.removed).toBe(3);
    expect((await json<{ source: string; projectId: string }>(await api(`/api/jobs/${jobId}`), 200)).source).toBe("delete");

    // Nothing is left: rows (but the deletion job's own record), objects, shard, session.
    const after = await rowsOf(victim);
    expect(after).toEqual({ ...Object.fromEntries(Object.keys(after).map((t) => [t, 0])), ingest_jobs: 1, job_batches: after.job_batches });
    const jobRows = await env.DB.prepare("SELECT job_id, source FROM ingest_jobs WHERE project_id = ?").bind(victim).all<{ job_id: string; source: string }>();
    expect(jobRows.results).toEqual([{ job_id: jobId, source: "delete" }]);
    expect(after.job_batches).toBeGreaterThan(1);
    expect(await objectsUnder(victim)).toEqual([]);
    await expect(mpu.uploadPart(2, "part two")).rejects.toThrow();
    await runInDurableObject(env.PROJECT_INDEX.getByName(victim), async (_o, state) => {
      expect(tablesIn(state.storage.sql)).toEqual({});
      expect(await state.storage.getAlarm()).toBeNull();
    });
    await runInDurableObject(env.SESSION.getByName(session.sessionId), async (_o, state) => {
      expect(tablesIn(state.storage.sql)).toEqual({});
      expect(await state.storage.getAlarm()).toBeNull();
    });
    expect(closed).toBe(1000);
    await json(await api(`/api/sessions/${session.sessionId}`), 404);
    await json(await api(`/api/sandbox/runs/${run.runId}`), 404);

    // The neighbour is untouched and still searchable.
    expect(ingested(await rowsOf(neighbour))).toEqual(ingested(neighbourBefore));
    expect((await objectsUnder(neighbour)).sort()).toEqual(neighbourObjects.sort());
    expect((await rowsOf(neighbour)).summaries).toBeGreaterThanOrEqual(neighbourBefore.summaries ?? 0);
    const files = await json<{ files: { path: string; chunkIds: string[] }[] }>(await api(`/api/projects/${neighbour}/files`), 200);
    expect(files.files).toHaveLength(3);
    const chunkId = files.files.find((f) => f.path === "src/calc.js")?.chunkIds[0];
    expect((await json<{ text: string }>(await api(`/api/chunks/${chunkId}`), 200)).text).toContain("addNeighbour");
    const found = await json<{ contextPieces: { sourcePath: string }[] }>(
      await send("POST", "/api/context/assemble", { projectId: neighbour, prompt: "addNeighbour arithmetic", budget: 8000 }),
      200,
    );
    expect(found.contextPieces.map((p) => p.sourcePath)).toContain("src/calc.js");

    // Redelivered steps change nothing: a finished one is acknowledged, a repeated chain finds nothing to do.
    const deps: DeletionDeps = { d1: env.DB, bucket: env.CHUNKS, queue: env.INGEST_QUEUE, projectIndex: env.PROJECT_INDEX, sessions: env.SESSION };
    const first = { kind: "delete-project" as const, jobId, projectId: victim, seq: 0, phase: "fence" as const };
    expect(await runDeletionStep(deps, first)).toBe("already-done");
    await env.DB.prepare("INSERT INTO job_batches (job_id, seq, status) VALUES (?, 900, 'queued')").bind(jobId).run();
    expect(await runDeletionStep(deps, { ...first, seq: 900 })).toBe("done");
    expect(await waitForJob(jobId)).toMatchObject({ status: "done" });
    expect(await rowsOf(victim)).toEqual({ ...after, job_batches: (after.job_batches ?? 0) + 1 });
    expect(await objectsUnder(victim)).toEqual([]);
    expect(ingested(await rowsOf(neighbour))).toEqual(ingested(neighbourBefore));
    await expect(runDeletionStep(deps, { ...first, seq: 901 })).rejects.toThrow(/no step 901/);
  });
});

describe("DELETE /api/sessions/:id", () => {
  it("wipes the session's object and registry row; another org's key gets 404", async () => {
    const projectId = await ingestTree(tree("Sess"));
    const { sessionId } = await json<{ sessionId: string }>(await send("POST", "/api/sessions", { projectId }), 201);
    const registered = () => env.DB.prepare("SELECT project_id FROM sessions WHERE session_id = ?").bind(sessionId).first<{ project_id: string }>();
    expect(await registered()).toEqual({ project_id: projectId });
    await json(await send("POST", `/api/sessions/${sessionId}/assemble`, { prompt: "addSess", budget: 8000 }), 200);

    const stranger = await newOrgKey("stranger");
    expect((await json<ErrorBody>(await send("DELETE", `/api/sessions/${sessionId}`, undefined, stranger), 404)).error.code).toBe("session_not_found");
    await json(await api(`/api/sessions/${sessionId}`), 200);

    const res = await send("DELETE", `/api/sessions/${sessionId}`);
    expect(res.status).toBe(204);
    expect(await registered()).toBeNull();
    await runInDurableObject(env.SESSION.getByName(sessionId), async (_o, state) => {
      expect(tablesIn(state.storage.sql)).toEqual({});
    });
    await json(await api(`/api/sessions/${sessionId}`), 404);
    expect((await json<ErrorBody>(await send("DELETE", `/api/sessions/${sessionId}`), 404)).error.code).toBe("session_not_found");
    expect((await json<ErrorBody>(await send("DELETE", "/api/sessions/not-a-session"), 400)).error.code).toBe("invalid_request");
  });
});

describe("DELETE /api/sandbox/runs/:id", () => {
  it("removes the run's row and its objects; another org's key gets 404", async () => {
    const projectId = await ingestTree(tree("Run"));
    const run = await json<{ runId: string; status: string }>(
      await send("POST", "/api/sandbox/runs", { projectId, commands: ["node test.js", "echo built > out.txt"] }),
      200,
    );
    expect(run.status).toBe("passed");
    const prefix = `sandbox/${projectId}/${run.runId}/`;
    expect((await env.CHUNKS.list({ prefix })).objects.map((o) => o.key).sort()).toEqual(
      [`${prefix}artifacts/out.txt`, `${prefix}input.json`, `${prefix}results.json`].sort(),
    );

    const stranger = await newOrgKey("stranger");
    await json(await send("DELETE", `/api/sandbox/runs/${run.runId}`, undefined, stranger), 404);
    await json(await api(`/api/sandbox/runs/${run.runId}`), 200);

    expect((await send("DELETE", `/api/sandbox/runs/${run.runId}`)).status).toBe(204);
    expect((await env.CHUNKS.list({ prefix })).objects).toEqual([]);
    expect(await env.DB.prepare("SELECT 1 FROM sandbox_runs WHERE run_id = ?").bind(run.runId).first()).toBeNull();
    await json(await api(`/api/sandbox/runs/${run.runId}`), 404);
    await json(await send("DELETE", `/api/sandbox/runs/${run.runId}`), 404);
  });
});
