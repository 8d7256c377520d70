/**
 * Every route of the API, generated from the app's route table, called with each credential that must
 * fail: no token, a revoked key, an expired key, the bootstrap token, a key of another org, a key lacking
 * the route's scope, and a key limited to another project. A route added without an entry here fails the
 * suite. Each wrong credential is refused before anything is read or written, so one set of fixtures
 * serves every call; the right key then reaches each route that does not delete what it names.
 */
import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { SCOPES, type Scope } from "../../src/lib/auth";
import { app } from "../../workers/api/app";
import { ADMIN, api, BOOTSTRAP, createProject, json, newOrg, waitForJob } from "../support/api";
import { tarGz } from "../support/archives";
import { TEST_ORG_ID } from "../support/test-org";

type Ids = { project: string; job: string; chunk: string; session: string; run: string; generation: string; upload: string; key: string };
type Call = { path: string; method: string; body?: unknown; websocket?: boolean; accept?: string };

/**
 * `project`: the route names a project's resource, so another org's key and a key limited to another
 * project both get 404. `org`: it acts on the caller's own org, so another org's key acts on its own
 * (allowed) and a project-limited key gets what `limited` says.
 */
type Entry =
  | { auth: "operator" | "signature" | "public" }
  /** Any valid key reaches it; what the key may do is checked inside (MCP tools check their scopes: test/mcp). */
  | { auth: "key"; call: (ids: Ids) => Call }
  | { auth: Scope; target: "project"; call: (ids: Ids) => Call; destructive?: boolean }
  | { auth: Scope; target: "org"; limited: 403 | 404 | "allowed"; otherOrg: 404 | "allowed"; call: (ids: Ids) => Call; destructive?: boolean };

const project = (auth: Scope, call: (ids: Ids) => Call, destructive = false): Entry => ({ auth, target: "project", call, destructive });
const assemble = { prompt: "where is add defined", budget: 4096 };
const mcpPing = { jsonrpc: "2.0", id: 1, method: "ping" };

const MATRIX: Record<string, Entry> = {
  "POST /api/orgs": { auth: "operator" },
  "POST /api/webhooks/github": { auth: "public" },
  "POST /api/webhooks/github/:projectId": { auth: "signature" },
  "GET /health": { auth: "public" },
  "GET /openapi.json": { auth: "public" },
  "GET /docs": { auth: "public" },
  "POST /mcp": { auth: "key", call: () => ({ method: "POST", path: "/mcp", body: mcpPing, accept: "application/json, text/event-stream" }) },
  "GET /mcp": { auth: "key", call: () => ({ method: "GET", path: "/mcp", accept: "text/event-stream" }) },
  "POST /api/keys": {
    auth: "admin",
    target: "org",
    limited: "allowed",
    otherOrg: "allowed",
    call: () => ({ method: "POST", path: "/api/keys", body: { name: "k" } }),
  },
  "GET /api/orgs/:orgId/limits": {
    auth: "admin",
    target: "org",
    limited: 403,
    otherOrg: 404,
    call: () => ({ method: "GET", path: `/api/orgs/${TEST_ORG_ID}/limits` }),
  },
  "PUT /api/orgs/:orgId/limits": {
    auth: "admin",
    target: "org",
    limited: 403,
    otherOrg: 404,
    call: () => ({ method: "PUT", path: `/api/orgs/${TEST_ORG_ID}/limits`, body: { projects: 5000 } }),
  },
  "GET /api/metrics": project("read", (i) => ({ method: "GET", path: `/api/metrics?projectId=${i.project}` })),
  "GET /api/whoami": { auth: "key", call: () => ({ method: "GET", path: "/api/whoami" }) },
  "GET /api/usage": { auth: "admin", target: "org", limited: 403, otherOrg: "allowed", call: () => ({ method: "GET", path: "/api/usage" }) },
  "GET /api/audit": { auth: "admin", target: "org", limited: 403, otherOrg: "allowed", call: () => ({ method: "GET", path: "/api/audit" }) },
  "GET /api/keys": { auth: "admin", target: "org", limited: "allowed", otherOrg: "allowed", call: () => ({ method: "GET", path: "/api/keys" }) },
  "DELETE /api/keys/:keyId": {
    auth: "admin",
    target: "org",
    limited: 404,
    otherOrg: 404,
    destructive: true,
    call: (i) => ({ method: "DELETE", path: `/api/keys/${i.key}` }),
  },
  "GET /api/orgs/:orgId/settings": {
    auth: "admin",
    target: "org",
    limited: 403,
    otherOrg: 404,
    call: () => ({ method: "GET", path: `/api/orgs/${TEST_ORG_ID}/settings` }),
  },
  "PATCH /api/orgs/:orgId/settings": {
    auth: "admin",
    target: "org",
    limited: 403,
    otherOrg: 404,
    call: () => ({ method: "PATCH", path: `/api/orgs/${TEST_ORG_ID}/settings`, body: { auditRetentionDays: 30 } }),
  },
  "POST /api/projects": {
    auth: "ingest",
    target: "org",
    limited: 403,
    otherOrg: "allowed",
    call: () => ({ method: "POST", path: "/api/projects", body: { name: "x" } }),
  },
  "GET /api/projects": { auth: "read", target: "org", limited: "allowed", otherOrg: "allowed", call: () => ({ method: "GET", path: "/api/projects" }) },
  "DELETE /api/projects/:projectId": project("admin", (i) => ({ method: "DELETE", path: `/api/projects/${i.project}` }), true),
  "GET /api/projects/:projectId": project("read", (i) => ({ method: "GET", path: `/api/projects/${i.project}` })),
  "PATCH /api/projects/:projectId": project("admin", (i) => ({ method: "PATCH", path: `/api/projects/${i.project}`, body: { name: "renamed" } })),
  "PUT /api/projects/:projectId/repository": project("admin", (i) => ({
    method: "PUT",
    path: `/api/projects/${i.project}/repository`,
    body: { fullName: "acme/app" },
  })),
  "GET /api/projects/:projectId/files": project("read", (i) => ({ method: "GET", path: `/api/projects/${i.project}/files` })),
  "GET /api/projects/:projectId/summaries": project("read", (i) => ({ method: "GET", path: `/api/projects/${i.project}/summaries` })),
  "POST /api/projects/:projectId/summaries/backfill": project("ingest", (i) => ({ method: "POST", path: `/api/projects/${i.project}/summaries/backfill` })),
  "POST /api/projects/:projectId/conversations": project("ingest", (i) => ({
    method: "POST",
    path: `/api/projects/${i.project}/conversations`,
    body: { conversationId: "c1", messages: [{ role: "user", content: "hi" }] },
  })),
  "POST /api/projects/:projectId/logs": project("ingest", (i) => ({
    method: "POST",
    path: `/api/projects/${i.project}/logs`,
    body: { source: "app", entries: [{ severity: "error", message: "boom" }] },
  })),
  "POST /api/projects/:projectId/ingest": project(
    "ingest",
    (i) => ({ method: "POST", path: `/api/projects/${i.project}/ingest`, body: "not a tarball" }),
    true,
  ),
  "POST /api/projects/:projectId/uploads": project("ingest", (i) => ({ method: "POST", path: `/api/projects/${i.project}/uploads`, body: { format: "tar" } })),
  "PUT /api/projects/:projectId/uploads/:uploadId/parts/:partNumber": project("ingest", (i) => ({
    method: "PUT",
    path: `/api/projects/${i.project}/uploads/${i.upload}/parts/1`,
    body: "part",
  })),
  "POST /api/projects/:projectId/uploads/:uploadId/complete": project(
    "ingest",
    (i) => ({ method: "POST", path: `/api/projects/${i.project}/uploads/${i.upload}/complete`, body: { parts: [{ partNumber: 1, etag: "e" }] } }),
    true,
  ),
  "DELETE /api/projects/:projectId/uploads/:uploadId": project(
    "ingest",
    (i) => ({ method: "DELETE", path: `/api/projects/${i.project}/uploads/${i.upload}` }),
    true,
  ),
  "GET /api/jobs/:jobId": project("read", (i) => ({ method: "GET", path: `/api/jobs/${i.job}` })),
  "GET /api/chunks/:chunkId": project("read", (i) => ({ method: "GET", path: `/api/chunks/${i.chunk}` })),
  "POST /api/context/assemble": project("read", (i) => ({ method: "POST", path: "/api/context/assemble", body: { projectId: i.project, ...assemble } })),
  "POST /api/sandbox/runs": project("sandbox", (i) => ({ method: "POST", path: "/api/sandbox/runs", body: { projectId: i.project, commands: ["true"] } })),
  "GET /api/sandbox/runs/:runId": project("read", (i) => ({ method: "GET", path: `/api/sandbox/runs/${i.run}` })),
  "DELETE /api/sandbox/runs/:runId": project("sandbox", (i) => ({ method: "DELETE", path: `/api/sandbox/runs/${i.run}` }), true),
  "POST /api/sandbox/runs/:runId/replay": project("sandbox", (i) => ({ method: "POST", path: `/api/sandbox/runs/${i.run}/replay` })),
  "POST /api/sandbox/runs/:runId/cancel": project("sandbox", (i) => ({ method: "POST", path: `/api/sandbox/runs/${i.run}/cancel` })),
  "POST /api/ai/generate-prototype": project("generate", (i) => ({
    method: "POST",
    path: "/api/ai/generate-prototype",
    body: { projectId: i.project, prompt: "add a subtract function", dryRun: true },
  })),
  "POST /api/ai/generations/:id/feedback": project("generate", (i) => ({
    method: "POST",
    path: `/api/ai/generations/${i.generation}/feedback`,
    body: { approved: true },
  })),
  "GET /api/generations": {
    auth: "read",
    target: "org",
    limited: "allowed",
    otherOrg: "allowed",
    call: () => ({ method: "GET", path: "/api/generations" }),
  },
  "GET /api/generations/:id": project("read", (i) => ({ method: "GET", path: `/api/generations/${i.generation}` })),
  "POST /api/sessions": project("read", (i) => ({ method: "POST", path: "/api/sessions", body: { projectId: i.project } })),
  "GET /api/sessions/:sessionId": project("read", (i) => ({ method: "GET", path: `/api/sessions/${i.session}` })),
  "POST /api/sessions/:sessionId/assemble": project("read", (i) => ({ method: "POST", path: `/api/sessions/${i.session}/assemble`, body: assemble })),
  "DELETE /api/sessions/:sessionId": project("read", (i) => ({ method: "DELETE", path: `/api/sessions/${i.session}` }), true),
  "GET /api/sessions/:sessionId/ws": project("read", (i) => ({ method: "GET", path: `/api/sessions/${i.session}/ws`, websocket: true })),
};

/** Every route the app serves, as "METHOD path" (middleware entries excluded). */
function routeTable(): string[] {
  const seen = new Set<string>();
  for (const r of app.routes) if (r.method !== "ALL") seen.add(`${r.method} ${r.path}`);
  return [...seen].sort();
}

async function send(call: Call, token: string | undefined): Promise<Response> {
  const headers: Record<string, string> = { "cf-ray": "matrix" };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (call.websocket) headers.upgrade = "websocket";
  if (call.accept) headers.accept = call.accept;
  let body: BodyInit | undefined;
  if (typeof call.body === "string") body = call.body;
  else if (call.body !== undefined) {
    body = JSON.stringify(call.body);
    headers["content-type"] = "application/json";
  }
  const res = await SELF.fetch(`https://winky.test${call.path}`, { method: call.method, headers, ...(body === undefined ? {} : { body }) });
  if (res.webSocket) {
    res.webSocket.accept();
    res.webSocket.close(1000, "matrix");
  }
  return res;
}

const post = (path: string, body: unknown, token = ADMIN) =>
  api(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" }, token });

async function mint(body: Record<string, unknown>, token = ADMIN): Promise<{ keyId: string; apiKey: string }> {
  return json(await post("/api/keys", { name: "matrix", ...body }, token), 201);
}

let ids: Ids;
const keys: Record<string, string> = {};

beforeAll(async () => {
  const projectId = await createProject();
  const otherProject = await createProject();
  const tree = await tarGz([{ path: "calc.js", content: "exports.add = (a, b) => a + b;\n" }]);
  const { jobId } = await json<{ jobId: string }>(
    await api(`/api/projects/${projectId}/ingest`, { method: "POST", body: tree, headers: { "content-type": "application/gzip" } }),
    202,
  );
  expect((await waitForJob(jobId)).status).toBe("done");
  const chunk = await env.DB.prepare("SELECT chunk_id FROM chunks WHERE project_id = ?").bind(projectId).first<{ chunk_id: string }>();
  const session = await json<{ sessionId: string }>(await post("/api/sessions", { projectId }), 201);
  const run = await json<{ runId: string }>(await post("/api/sandbox/runs", { projectId, commands: ["true"] }), 200);
  const upload = await json<{ uploadId: string }>(await post(`/api/projects/${projectId}/uploads`, { format: "tar" }), 201);
  const generation = "gen_matrix";
  await env.DB.prepare(
    "INSERT INTO context_sessions (session_id, project_id, org_id, chunks_used, tokens_at_call, model, result_meta) VALUES (?, ?, ?, '[]', 0, 'm', ?)",
  )
    .bind(generation, projectId, TEST_ORG_ID, JSON.stringify({ changedPaths: ["calc.js"] }))
    .run();
  const target = await mint({});
  ids = {
    project: projectId,
    job: jobId,
    chunk: chunk?.chunk_id ?? "",
    session: session.sessionId,
    run: run.runId,
    generation,
    upload: upload.uploadId,
    key: target.keyId,
  };

  const revoked = await mint({});
  expect((await api(`/api/keys/${revoked.keyId}`, { method: "DELETE" })).status).toBe(204);
  keys.revoked = revoked.apiKey;
  keys.expired = (await mint({ expiresAt: new Date(Date.now() + 1000).toISOString() })).apiKey;
  keys.otherOrg = (await newOrg("matrix-other")).apiKey;
  keys.limited = (await mint({ projectIds: [otherProject] })).apiKey;
  for (const scope of SCOPES) keys[`without-${scope}`] = (await mint({ scopes: SCOPES.filter((s) => s !== scope) })).apiKey;
  await new Promise((r) => setTimeout(r, 1100));
});

describe("the access matrix", () => {
  it("has an entry for every route the app serves, and none for a route it does not", () => {
    expect(routeTable()).toEqual(Object.keys(MATRIX).sort());
  });

  for (const [route, entry] of Object.entries(MATRIX)) {
    // Webhooks are checked by their signature (test/api/webhook*.test.ts); /health is for load balancers.
    if (entry.auth === "signature" || entry.auth === "public") continue;
    if (entry.auth === "operator") {
      it(`${route}: only the bootstrap token`, async () => {
        const call = { method: "POST", path: "/api/orgs", body: { name: "m" } };
        expect((await send(call, undefined)).status).toBe(401);
        for (const token of [ADMIN, keys.revoked, keys.expired, keys.otherOrg, keys.limited]) expect((await send(call, token)).status).toBe(403);
        expect((await send(call, BOOTSTRAP)).status).toBe(201);
      });
      continue;
    }
    if (entry.auth === "key") {
      const keyed = entry;
      it(`${route}: refused without a valid key and with the bootstrap token; any key of any org reaches it`, async () => {
        const call = keyed.call(ids);
        for (const [token, status, what] of [
          [undefined, 401, "no token"],
          [keys.revoked, 401, "revoked key"],
          [keys.expired, 401, "expired key"],
          [BOOTSTRAP, 403, "bootstrap token"],
        ] as const) {
          const res = await send(call, token);
          const body = await res.text();
          expect(res.status, `${what}: ${body}`).toBe(status);
          expect(JSON.parse(body), what).toMatchObject({ error: { code: expect.any(String), requestId: "matrix" } });
        }
        for (const token of [ADMIN, keys.otherOrg, keys.limited, ...SCOPES.map((s) => keys[`without-${s}`])]) {
          expect([401, 403, 404], `${route}: ${token}`).not.toContain((await send(call, token)).status);
        }
      });
      continue;
    }
    if (!("call" in entry)) continue;
    const keyed = entry;
    it(`${route}: refused without a valid key, with the bootstrap token, without "${entry.auth}", from another org or project`, async () => {
      const entry = keyed;
      const call = entry.call(ids);
      const expectStatus = async (token: string | undefined, status: number, what: string) => {
        const res = await send(call, token);
        const body = await res.text();
        expect(res.status, `${what}: ${body}`).toBe(status);
        if (status !== 101) expect(JSON.parse(body), what).toMatchObject({ error: { code: expect.any(String), requestId: "matrix" } });
      };
      await expectStatus(undefined, 401, "no token");
      await expectStatus(keys.revoked, 401, "revoked key");
      await expectStatus(keys.expired, 401, "expired key");
      await expectStatus(BOOTSTRAP, 403, "bootstrap token");
      await expectStatus(keys[`without-${entry.auth}`], 403, `key without ${entry.auth}`);
      if (entry.target === "project") {
        await expectStatus(keys.otherOrg, 404, "key of another org");
        await expectStatus(keys.limited, 404, "key limited to another project");
      } else {
        if (entry.otherOrg === 404) await expectStatus(keys.otherOrg, 404, "key of another org");
        if (entry.limited !== "allowed") await expectStatus(keys.limited, entry.limited, "key limited to another project");
      }
      if (!entry.destructive) {
        const res = await send(call, ADMIN);
        expect([401, 403, 404], `the admin key on ${route}: ${res.status}`).not.toContain(res.status);
      }
    });
  }

  it("lists only the projects a limited key may touch", async () => {
    const listed = await json<{ projects: { projectId: string }[] }>(await api("/api/projects", { token: keys.limited }), 200);
    expect(listed.projects.map((p) => p.projectId)).not.toContain(ids.project);
    expect(listed.projects).toHaveLength(1);
  });
});
