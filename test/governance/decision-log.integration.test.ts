/**
 * The decision log: GET /api/generations/:id returns every model call of a run (model, vendor, tokens,
 * cost, prompt fingerprint), its decisions and verification; GET /api/generations lists the org's runs.
 * Another org's run, or one outside a limited key's projects, answers as missing.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, ingestTree, json, newOrg } from "../support/api";
import type { TreeFile } from "../support/archives";

const files: TreeFile[] = [
  { path: "package.json", content: JSON.stringify({ name: "calc", scripts: { test: "node test.js" } }) },
  { path: "calc.js", content: "exports.add = (a, b) => a + b;\n" },
  { path: "test.js", content: "const assert = require('assert');\nassert.strictEqual(require('./calc').add(2, 3), 5);\n" },
];

type Org = { orgId: string; apiKey: string };
type Summary = { id: string; projectId: string; status: string; calls: number };
type CallRecord = { pass: string; model: string; vendor: string; inputTokens: number; outputTokens: number; costUsd: number; promptSha256: string };
type Record_ = Summary & {
  model: string;
  vendor: string;
  calls: CallRecord[];
  decisions: { kind: string; pass: string | null; reason: string }[];
  verification: { runId: string; status: string }[];
  usage: { costUsd: number };
};

const reply = (match: string, text: string) => fetch(`${env.ANTHROPIC_BASE_URL}/__reply?match=${encodeURIComponent(match)}`, { method: "PUT", body: text });
const get = (path: string, token: string) => api(path, { token });
const plan = JSON.stringify({ summary: "add mul", steps: [{ description: "add mul to calc.js", files: ["calc.js"] }] });
const change = (content: string) => JSON.stringify({ files: [{ path: "calc.js", content }], sources: [{ claim: "calc.js exports add", chunkIds: [] }] });

/** A generation whose first change fails verification and is repaired: its record holds a repair decision. */
async function generateIn(org: Org, projectId: string): Promise<string> {
  const marker = `m-${crypto.randomUUID()}`;
  await reply(`${marker}\n\nAnswer with JSON only`, plan);
  await reply(`${marker}\n\nPlan:`, change("exports.add = (a, b) => a - b;\n"));
  await reply(`${marker}\n\nThe proposed change fails`, change("exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b;\n"));
  const res = await api("/api/ai/generate-prototype", {
    method: "POST",
    token: org.apiKey,
    body: JSON.stringify({ projectId, prompt: `Add mul ${marker}` }),
    headers: { "content-type": "application/json" },
  });
  return (await json<{ id: string }>(res, 200)).id;
}

describe("GET /api/generations/:id", () => {
  it("returns every call's model, vendor, tokens, cost and prompt fingerprint, the repair decision and the verification", async () => {
    const org = await newOrg("log");
    const projectId = await ingestTree(files, {}, org.apiKey);
    const id = await generateIn(org, projectId);
    const record = await json<Record_>(await get(`/api/generations/${id}`, org.apiKey), 200);
    expect(record).toMatchObject({ id, projectId, status: "done", vendor: "anthropic" });
    expect(record.calls.length).toBeGreaterThanOrEqual(3);
    for (const call of record.calls) {
      expect(call).toMatchObject({ model: record.model, vendor: "anthropic", promptSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(call.inputTokens).toBeGreaterThan(0);
      expect(call.costUsd).toBeGreaterThan(0);
    }
    expect(record.calls.map((c) => c.pass)).toEqual(expect.arrayContaining(["plan", "expand", "repair 1"]));
    expect(record.decisions).toContainEqual({ kind: "repair", pass: "repair 1", reason: expect.stringContaining("failed verification") });
    expect(record.verification.map((v) => v.status)).toEqual(["failed", "passed"]);
    const total = record.calls.reduce((n, c) => n + c.costUsd, 0);
    expect(record.usage.costUsd).toBeCloseTo(total, 5);
  });

  it("answers 404 for another org's generation, one outside a limited key's projects, and an assembly's id", async () => {
    const org = await newOrg("log");
    const other = await newOrg("log-other");
    const projectId = await ingestTree(files, {}, org.apiKey);
    const elsewhere = await ingestTree(files, {}, org.apiKey);
    const id = await generateIn(org, projectId);
    expect((await json<{ error: { code: string } }>(await get(`/api/generations/${id}`, other.apiKey), 404)).error.code).toBe("not_found");
    const limited = await json<{ apiKey: string }>(
      await api("/api/keys", {
        method: "POST",
        token: org.apiKey,
        body: JSON.stringify({ name: "l", scopes: ["read"], projectIds: [elsewhere] }),
        headers: { "content-type": "application/json" },
      }),
      201,
    );
    await json(await get(`/api/generations/${id}`, limited.apiKey), 404);
    const assembled = await json<{ callId: string }>(
      await api("/api/context/assemble", {
        method: "POST",
        token: org.apiKey,
        body: JSON.stringify({ projectId, prompt: "add", budget: 8192 }),
        headers: { "content-type": "application/json" },
      }),
      200,
    );
    await json(await get(`/api/generations/${assembled.callId}`, org.apiKey), 404);
  });
});

describe("GET /api/generations", () => {
  it("lists the org's generations newest first, by project and time, in pages; a limited key sees its projects only", async () => {
    const org = await newOrg("log");
    const other = await newOrg("log-other");
    const first = await ingestTree(files, {}, org.apiKey);
    const second = await ingestTree(files, {}, org.apiKey);
    const a = await generateIn(org, first);
    const b = await generateIn(org, second);
    const all = await json<{ generations: Summary[]; nextCursor: string | null }>(await get("/api/generations", org.apiKey), 200);
    expect(all.generations.map((g) => g.id)).toEqual([b, a]);
    expect(all.generations[0]).toMatchObject({ projectId: second, status: "done", calls: expect.any(Number) });
    const page1 = await json<{ generations: Summary[]; nextCursor: string }>(await get("/api/generations?limit=1", org.apiKey), 200);
    const page2 = await json<{ generations: Summary[]; nextCursor: string | null }>(
      await get(`/api/generations?limit=1&cursor=${encodeURIComponent(page1.nextCursor)}`, org.apiKey),
      200,
    );
    expect([...page1.generations, ...page2.generations].map((g) => g.id)).toEqual([b, a]);
    expect(page2.nextCursor).toBeNull();
    const byProject = await json<{ generations: Summary[] }>(await get(`/api/generations?projectId=${first}`, org.apiKey), 200);
    expect(byProject.generations.map((g) => g.id)).toEqual([a]);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await json<{ generations: Summary[] }>(await get(`/api/generations?from=${future}`, org.apiKey), 200)).generations).toEqual([]);

    const limited = await json<{ apiKey: string }>(
      await api("/api/keys", {
        method: "POST",
        token: org.apiKey,
        body: JSON.stringify({ name: "l", scopes: ["read"], projectIds: [first] }),
        headers: { "content-type": "application/json" },
      }),
      201,
    );
    expect((await json<{ generations: Summary[] }>(await get("/api/generations", limited.apiKey), 200)).generations.map((g) => g.id)).toEqual([a]);
    await json(await get(`/api/generations?projectId=${second}`, limited.apiKey), 404);
    // Another org sees none of them, and naming this org's project is a 404.
    expect((await json<{ generations: Summary[] }>(await get("/api/generations", other.apiKey), 200)).generations).toEqual([]);
    await json(await get(`/api/generations?projectId=${first}`, other.apiKey), 404);
    await json(await get("/api/generations?cursor=bogus", org.apiKey), 400);
  });
});
