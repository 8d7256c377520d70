/**
 * GET /api/metrics and GET /api/whoami: the spec's metrics recorded where the work happens (assemblies,
 * session hot windows, model calls, approved changes, every answered request) and read back per day; the
 * scope rules of a project's metrics and the org's.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { MetricsReport } from "../../src/lib/metrics";
import { api, ingestTree, json, newOrg } from "../support/api";

type Org = { orgId: string; keyId: string; apiKey: string };

const send = (path: string, token: string, body: unknown) =>
  api(path, { method: "POST", token, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

const files = [
  { path: "calc.js", content: "exports.add = (a, b) => a + b;\nexports.sub = (a, b) => a - b;\n" },
  { path: "util.js", content: "exports.twice = (n) => n * 2;\n" },
];

/** The report once `ready` holds: metrics are written after the answer (waitUntil), so a read may come first. */
async function metricsWhen(token: string, query: string, ready: (r: MetricsReport) => boolean): Promise<MetricsReport> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const report = await json<MetricsReport>(await api(`/api/metrics${query}`, { token }), 200);
    if (ready(report) || Date.now() > deadline) return report;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const reply = (match: string, text: string) => fetch(`${env.ANTHROPIC_BASE_URL}/__reply?match=${encodeURIComponent(match)}`, { method: "PUT", body: text });

describe("GET /api/metrics", () => {
  it("reports assemblies, hot-window hits, model calls, recall and errors of the day, for the org and per project", async () => {
    const org: Org = await newOrg("metrics");
    const projectId = await ingestTree(files, {}, org.apiKey);
    const ask = { projectId, prompt: "where is add defined", budget: 4096 };
    await json(await send("/api/context/assemble", org.apiKey, ask), 200);
    await json(await send("/api/context/assemble", org.apiKey, ask), 200);
    // A session's second assembly of the same prompt takes its blocks from the hot window.
    const { sessionId } = await json<{ sessionId: string }>(await send("/api/sessions", org.apiKey, { projectId }), 201);
    await json(await send(`/api/sessions/${sessionId}/assemble`, org.apiKey, { prompt: ask.prompt, budget: 8000 }), 200);
    await json(await send(`/api/sessions/${sessionId}/assemble`, org.apiKey, { prompt: ask.prompt, budget: 8000 }), 200);
    // A generation changing calc.js, which its context held, approved: recall 1.
    const marker = `m-${crypto.randomUUID()}`;
    await reply(`${marker}\n\nAnswer with JSON only`, JSON.stringify({ summary: "s", steps: [{ description: "d", files: ["calc.js"] }] }));
    await reply(`${marker}\n\nPlan:`, JSON.stringify({ files: [{ path: "calc.js", content: "exports.add = (a, b) => b + a;\n" }], sources: [] }));
    const gen = await json<{ id: string }>(
      await send("/api/ai/generate-prototype", org.apiKey, { projectId, prompt: `change add in calc.js ${marker}`, verify: false }),
      200,
    );
    await json(await send(`/api/ai/generations/${gen.id}/feedback`, org.apiKey, { approved: true }), 200);
    // Approving it again is not another approved change.
    await json(await send(`/api/ai/generations/${gen.id}/feedback`, org.apiKey, { approved: true, note: "still fine" }), 200);
    // A request about the project answered 400 counts as a client error.
    expect((await api(`/api/metrics?projectId=${projectId}&from=yesterday`, { token: org.apiKey })).status).toBe(400);

    const report = await metricsWhen(
      org.apiKey,
      `?projectId=${projectId}`,
      (r) => r.totals.recall !== null && r.totals.assemblies >= 4 && r.totals.clientErrorRate !== null,
    );
    const today = new Date().toISOString().slice(0, 10);
    expect(report).toMatchObject({ to: today, projectId });
    expect(report.days).toHaveLength(30);
    const t = report.totals;
    // Two API assemblies, two session ones and the generation's passes.
    expect(t.assemblies).toBeGreaterThanOrEqual(4);
    expect(t.latencyMs?.p95).toBeGreaterThanOrEqual(t.latencyMs?.p50 ?? Number.POSITIVE_INFINITY);
    expect(t.utilization).toBeGreaterThan(0);
    expect(t.hotWindowHitRate).toBeGreaterThan(0);
    expect(t.modelCalls).toBeGreaterThanOrEqual(2);
    expect(t.tokensPerCall).toBeGreaterThan(0);
    expect(t.costPerCallUsd).toBeGreaterThan(0);
    expect(t.recall).toBe(1);
    expect(t.approvedChangedFiles).toBe(1);
    expect(t.clientErrorRate).toBeGreaterThan(0);
    expect(t.errorRate).toBe(0);
    expect(report.days.at(-1)).toMatchObject({ day: today, assemblies: t.assemblies, recall: 1 });

    // The whole org: the same project's numbers (it is the org's only one) with the org's other requests.
    const all = await metricsWhen(org.apiKey, "", (r) => r.totals.assemblies >= t.assemblies);
    expect(all).toMatchObject({ projectId: null, totals: { assemblies: t.assemblies, recall: 1 } });
    expect(all.totals.requests).toBeGreaterThanOrEqual(t.requests);

    // Another org sees none of it.
    const other = await newOrg("metrics-other");
    expect((await json<MetricsReport>(await api("/api/metrics", { token: other.apiKey }), 200)).totals.assemblies).toBe(0);
  });

  it("answers 404 for another org's project and for a project outside a limited key's list; 403 org-wide for a limited key", async () => {
    const org: Org = await newOrg("metrics-scope");
    const a = await ingestTree(files, {}, org.apiKey);
    const b = await ingestTree(files, {}, org.apiKey);
    const limited = await json<{ apiKey: string }>(await send("/api/keys", org.apiKey, { name: "a only", scopes: ["read"], projectIds: [a] }), 201);
    expect((await api(`/api/metrics?projectId=${a}`, { token: limited.apiKey })).status).toBe(200);
    expect((await json<{ error: { code: string } }>(await api(`/api/metrics?projectId=${b}`, { token: limited.apiKey }), 404)).error.code).toBe("not_found");
    expect((await json<{ error: { code: string } }>(await api("/api/metrics", { token: limited.apiKey }), 403)).error.code).toBe("forbidden");
    const other = await newOrg("metrics-scope-other");
    expect((await api(`/api/metrics?projectId=${a}`, { token: other.apiKey })).status).toBe(404);
    const bad = await json<{ error: { code: string } }>(await api("/api/metrics?from=2026-02-02&to=2026-01-01", { token: org.apiKey }), 400);
    expect(bad.error.code).toBe("invalid_request");
  });

  it("covers the days asked for, empty days included", async () => {
    const org: Org = await newOrg("metrics-range");
    const r = await json<MetricsReport>(await api("/api/metrics?from=2026-01-30&to=2026-02-02", { token: org.apiKey }), 200);
    expect(r.days.map((d) => d.day)).toEqual(["2026-01-30", "2026-01-31", "2026-02-01", "2026-02-02"]);
    expect(r.days[0]).toMatchObject({ assemblies: 0, latencyMs: null, utilization: null, recall: null, requests: 0, errorRate: null });
  });
});

describe("GET /api/whoami", () => {
  it("answers any valid key with its id, org, scopes, projects and expiry", async () => {
    const org: Org = await newOrg("whoami");
    expect(await json(await api("/api/whoami", { token: org.apiKey }), 200)).toMatchObject({
      keyId: org.keyId,
      orgId: org.orgId,
      projectIds: null,
      expiresAt: null,
    });
    const projectId = await ingestTree(files, {}, org.apiKey);
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const minted = await json<{ keyId: string; apiKey: string }>(
      await send("/api/keys", org.apiKey, { name: "sandbox only", scopes: ["sandbox"], projectIds: [projectId], expiresAt }),
      201,
    );
    expect(await json(await api("/api/whoami", { token: minted.apiKey }), 200)).toEqual({
      keyId: minted.keyId,
      orgId: org.orgId,
      scopes: ["sandbox"],
      projectIds: [projectId],
      expiresAt,
    });
    expect((await api("/api/whoami", { token: "wk_nonsense" })).status).toBe(401);
  });
});
