/** Quotas and rate limits: refused at 100% before any work, warned from 80%, metered per day, project, model and key. */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULT_REQUESTS_PER_MINUTE, FixedWindow } from "../../src/lib/usage/rate-limit";
import { api, ingestTree, json, newOrg } from "../support/api";

type ErrorBody = { error: { code: string; message: string } };
const today = () => new Date().toISOString().slice(0, 10);

const send = (method: string, path: string, token: string, body?: unknown) =>
  api(path, { method, token, headers: { "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

/** Usage already spent today by the org (as if earlier requests had made it). */
async function seedUsage(orgId: string, use: { tokens?: number; costUsd?: number; sandboxMs?: number }): Promise<void> {
  await env.DB.prepare(
    "INSERT INTO usage_daily (org_id, day, project_id, key_id, model, tokens_assembled, cost_micro_usd, sandbox_ms, requests) VALUES (?, ?, 'prj_seed', 'key_seed', '', ?, ?, ?, 0)",
  )
    .bind(orgId, today(), use.tokens ?? 0, Math.round((use.costUsd ?? 0) * 1e6), use.sandboxMs ?? 0)
    .run();
}

async function orgWithProject(name: string) {
  const org = await newOrg(name);
  const projectId = await ingestTree([{ path: "calc.js", content: "exports.add = (a, b) => a + b;\n" }], {}, org.apiKey);
  return { ...org, projectId };
}

describe("limits", () => {
  it("shows the defaults, takes an admin's values, restores a default with null, and refuses unknown fields", async () => {
    const org = await newOrg("limits");
    const path = `/api/orgs/${org.orgId}/limits`;
    const initial = await json<{ limits: Record<string, unknown>; defaults: Record<string, unknown> }>(await api(path, { token: org.apiKey }), 200);
    expect(initial.limits).toMatchObject({ ...initial.defaults, perProject: { tokensAssembledPerDay: null, spendUsdPerDay: null } });
    const set = await json<{ limits: Record<string, unknown> }>(
      await send("PUT", path, org.apiKey, { spendUsdPerDay: 5, perProject: { tokensAssembledPerDay: 1000 } }),
      200,
    );
    expect(set.limits).toMatchObject({ spendUsdPerDay: 5, perProject: { tokensAssembledPerDay: 1000 } });
    const reset = await json<{ limits: Record<string, unknown> }>(await send("PUT", path, org.apiKey, { spendUsdPerDay: null }), 200);
    expect(reset.limits.spendUsdPerDay).toBe(initial.defaults.spendUsdPerDay);
    expect((await json<ErrorBody>(await send("PUT", path, org.apiKey, { unlimited: true }), 400)).error.code).toBe("invalid_request");
    expect((await json<ErrorBody>(await send("PUT", path, org.apiKey, { projects: -1 }), 400)).error.code).toBe("invalid_request");
    const other = await newOrg("other");
    expect((await send("PUT", path, other.apiKey, { projects: 1 })).status).toBe(404);
  });
});

describe("quotas", () => {
  it("assembled tokens: a warning from 80%, 402 at 100% with nothing assembled or recorded", async () => {
    const org = await orgWithProject("tokens");
    await send("PUT", `/api/orgs/${org.orgId}/limits`, org.apiKey, { tokensAssembledPerDay: 100_000 });
    await seedUsage(org.orgId, { tokens: 85_000 });
    const ask = { projectId: org.projectId, prompt: "where is add", budget: 4096 };
    const warned = await send("POST", "/api/context/assemble", org.apiKey, ask);
    expect(warned.status).toBe(200);
    expect(warned.headers.get("x-winky-quota-warning")).toContain("daily assembled tokens: 85%");
    await env.DB.prepare("UPDATE usage_daily SET tokens_assembled = 100000 WHERE org_id = ? AND project_id = 'prj_seed'").bind(org.orgId).run();
    const calls = async () => (await env.DB.prepare("SELECT count(*) AS n FROM context_sessions WHERE org_id = ?").bind(org.orgId).first<{ n: number }>())?.n;
    const before = await calls();
    const refused = await json<ErrorBody>(await send("POST", "/api/context/assemble", org.apiKey, ask), 402);
    expect(refused.error.code).toBe("quota_exceeded");
    expect(refused.error.message).toContain("daily assembled tokens");
    expect(await calls()).toBe(before);
  });

  it("model spend: refused with 402 before any model call once the day's or the month's spend is used up", async () => {
    const org = await orgWithProject("spend");
    await send("PUT", `/api/orgs/${org.orgId}/limits`, org.apiKey, { spendUsdPerDay: 2, spendUsdPerMonth: 50 });
    await seedUsage(org.orgId, { costUsd: 2 });
    const refused = await json<ErrorBody>(
      await send("POST", "/api/ai/generate-prototype", org.apiKey, { projectId: org.projectId, prompt: "add subtract" }),
      402,
    );
    expect(refused.error.message).toContain("daily model spend");
    const calls = await env.DB.prepare("SELECT count(*) AS n FROM context_sessions WHERE org_id = ?").bind(org.orgId).first<{ n: number }>();
    expect(calls?.n).toBe(0);
    // A dry run makes no model call and is not refused.
    expect((await send("POST", "/api/ai/generate-prototype", org.apiKey, { projectId: org.projectId, prompt: "add subtract", dryRun: true })).status).toBe(200);
  });

  it("sandbox: 429 when the org's runs at once are taken, 402 when its daily minutes are used up", async () => {
    const org = await orgWithProject("sandbox");
    await send("PUT", `/api/orgs/${org.orgId}/limits`, org.apiKey, { concurrentSandboxRuns: 0 });
    const run = { projectId: org.projectId, commands: ["true"] };
    expect((await json<ErrorBody>(await send("POST", "/api/sandbox/runs", org.apiKey, run), 429)).error.code).toBe("sandbox_concurrency_limit");
    await send("PUT", `/api/orgs/${org.orgId}/limits`, org.apiKey, { concurrentSandboxRuns: null, sandboxMinutesPerDay: 1 });
    await seedUsage(org.orgId, { sandboxMs: 60_000 });
    expect((await json<ErrorBody>(await send("POST", "/api/sandbox/runs", org.apiKey, run), 402)).error.message).toContain("sandbox minutes");
    const runs = await env.DB.prepare("SELECT count(*) AS n FROM sandbox_runs WHERE org_id = ?").bind(org.orgId).first<{ n: number }>();
    expect(runs?.n).toBe(0);
  });

  it("projects: 402 once the org has as many as it may", async () => {
    const org = await orgWithProject("projects");
    await send("PUT", `/api/orgs/${org.orgId}/limits`, org.apiKey, { projects: 1 });
    expect((await json<ErrorBody>(await send("POST", "/api/projects", org.apiKey, { name: "second" }), 402)).error.code).toBe("quota_exceeded");
  });
});

describe("GET /api/usage", () => {
  it("totals by day, project, model and key what the org's requests used", async () => {
    const org = await orgWithProject("usage");
    const res = await json<{ tokenTotal: number }>(
      await send("POST", "/api/context/assemble", org.apiKey, { projectId: org.projectId, prompt: "where is add", budget: 4096, model: "cl100k_base" }),
      200,
    );
    let report: { totals: { tokensAssembled: number; requests: number }; rows: Record<string, unknown>[] } = {
      totals: { tokensAssembled: 0, requests: 0 },
      rows: [],
    };
    for (let i = 0; i < 50 && report.totals.requests === 0; i++) {
      report = await json(await api("/api/usage", { token: org.apiKey }), 200);
      if (report.totals.requests === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(report.totals).toMatchObject({ tokensAssembled: res.tokenTotal, requests: 1 });
    expect(report.rows).toEqual([
      {
        day: today(),
        projectId: org.projectId,
        model: "cl100k_base",
        kind: null,
        keyId: org.keyId,
        tokensAssembled: res.tokenTotal,
        costUsd: 0,
        sandboxMinutes: 0,
        requests: 1,
      },
    ]);
    const other = await newOrg("other");
    expect((await json<{ rows: unknown[] }>(await api("/api/usage", { token: other.apiKey }), 200)).rows).toEqual([]);
    expect((await json<ErrorBody>(await api("/api/usage?from=2026-02-01&to=2026-01-01", { token: org.apiKey }), 400)).error.code).toBe("invalid_request");
  });
});

describe("rate limits", () => {
  it("a fixed window lets `limit` requests through a minute, then asks to wait out the window", () => {
    const w = new FixedWindow();
    expect([0, 1, 2].map((t) => w.take(3, 1000 + t).ok)).toEqual([true, true, true]);
    expect(w.take(3, 31_000)).toEqual({ ok: false, retryAfterSeconds: 30 });
    expect(w.take(3, 31_500)).toEqual({ ok: false, retryAfterSeconds: 30 });
    expect(w.take(3, 61_000).ok).toBe(true);
  });

  it("answers a key over its requests per minute 429 with Retry-After; other keys go on", async () => {
    const org = await newOrg("busy");
    const other = await newOrg("calm");
    const limiter = env.KEY_RATE_LIMITER.getByName(org.keyId);
    for (let i = 0; i < DEFAULT_REQUESTS_PER_MINUTE; i++) await limiter.take(DEFAULT_REQUESTS_PER_MINUTE);
    const res = await api("/api/projects", { token: org.apiKey });
    expect((await json<ErrorBody>(res, 429)).error.code).toBe("rate_limited");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await api("/api/projects", { token: other.apiKey })).status).toBe(200);
  });
});

describe("stored rows are bounded", () => {
  it("an assembly naming 500 long hot paths that do not exist stores at most 20 short warnings", async () => {
    const org = await orgWithProject("bounded");
    const hotPaths = Array.from({ length: 500 }, (_, i) => `src/${"x".repeat(900)}/${i}.ts`);
    const res = await json<{ callId: string; warnings: string[] }>(
      await send("POST", "/api/context/assemble", org.apiKey, { projectId: org.projectId, prompt: "where is add", budget: 4096, hotPaths }),
      200,
    );
    const row = await env.DB.prepare("SELECT result_meta FROM context_sessions WHERE session_id = ?").bind(res.callId).first<{ result_meta: string }>();
    const meta = JSON.parse(row?.result_meta ?? "{}") as { warnings: string[]; warningsOmitted?: number };
    expect(meta.warnings.length).toBeLessThanOrEqual(20);
    expect(meta.warnings.every((w) => w.length <= 300)).toBe(true);
    expect((row?.result_meta ?? "").length).toBeLessThan(10_000);
    expect(meta.warningsOmitted ?? 0).toBe(Math.max(0, res.warnings.length - 20));
  });
});

describe("quota warnings in a session", () => {
  it("reach the session's WebSocket as a quota event, beside the header", async () => {
    const org = await orgWithProject("session-warn");
    await send("PUT", `/api/orgs/${org.orgId}/limits`, org.apiKey, { tokensAssembledPerDay: 100_000 });
    await seedUsage(org.orgId, { tokens: 90_000 });
    const { sessionId } = await json<{ sessionId: string }>(await send("POST", "/api/sessions", org.apiKey, { projectId: org.projectId }), 201);
    const res = await SELF.fetch(`https://winky.test/api/sessions/${sessionId}/ws`, {
      headers: { upgrade: "websocket", authorization: `Bearer ${org.apiKey}` },
    });
    const ws = res.webSocket;
    if (!ws) throw new Error(`no socket: ${res.status}`);
    ws.accept();
    const events: { type: string; data: { warnings?: string[] } }[] = [];
    ws.addEventListener("message", (m) => events.push(JSON.parse(String(m.data))));
    const assembled = await send("POST", `/api/sessions/${sessionId}/assemble`, org.apiKey, { prompt: "where is add", budget: 4096 });
    expect(assembled.status).toBe(200);
    expect(assembled.headers.get("x-winky-quota-warning")).toContain("90%");
    for (let i = 0; i < 100 && !events.some((e) => e.type === "quota"); i++) await new Promise((r) => setTimeout(r, 20));
    expect(events.find((e) => e.type === "quota")?.data.warnings?.[0]).toContain("daily assembled tokens: 90%");
    ws.close(1000, "done");
  });
});

describe("stored bytes", () => {
  it("refuses a new upload with 402 once the org's projects hold as many bytes as it may, and nothing is staged", async () => {
    const org = await orgWithProject("storage");
    await send("PUT", `/api/orgs/${org.orgId}/limits`, org.apiKey, { storedBytes: 10 });
    const direct = await api(`/api/projects/${org.projectId}/ingest`, {
      method: "POST",
      token: org.apiKey,
      body: "x",
      headers: { "content-type": "application/gzip" },
    });
    expect((await json<ErrorBody>(direct, 402)).error.message).toContain("stored bytes");
    expect((await json<ErrorBody>(await send("POST", `/api/projects/${org.projectId}/uploads`, org.apiKey, { format: "tar" }), 402)).error.code).toBe(
      "quota_exceeded",
    );
    const jobs = await env.DB.prepare("SELECT count(*) AS n FROM ingest_jobs WHERE org_id = ?").bind(org.orgId).first<{ n: number }>();
    expect(jobs?.n).toBe(1);
  });
});

describe("an org's own requests per minute", () => {
  it("can be lowered by its admins, never raised past the platform's", async () => {
    const other = await newOrg("fast");
    const org = await newOrg("slow");
    const path = `/api/orgs/${org.orgId}/limits`;
    const set = await json<{ limits: { requestsPerMinutePerKey: number | null } }>(await send("PUT", path, org.apiKey, { requestsPerMinutePerKey: 3 }), 200);
    expect(set.limits.requestsPerMinutePerKey).toBe(3);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await api("/api/projects", { token: org.apiKey })).status);
    // The PUT that set the limit is the window's first request.
    expect(statuses).toEqual([200, 200, 429, 429]);
    // Above the platform's limit, the platform's applies; other orgs are not affected.
    expect(
      (await json<ErrorBody>(await send("PUT", `/api/orgs/${other.orgId}/limits`, other.apiKey, { requestsPerMinutePerKey: 1_000_000 }), 400)).error.code,
    ).toBe("invalid_request");
    expect((await api("/api/projects", { token: other.apiKey })).status).toBe(200);
  });
});
