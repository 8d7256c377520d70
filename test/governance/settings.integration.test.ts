/**
 * Org and project governance: the context budget limit (refused above it, capped for "max") on every way
 * in, allowed models, generation opt-in per project, and compliance mode, in which the model endpoint
 * receives nothing while assembly and search still work.
 */
import { env, SELF } from "cloudflare:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { afterAll, describe, expect, it } from "vitest";
import { api, ingestTree, json, newOrg } from "../support/api";
import type { TreeFile } from "../support/archives";

const files: TreeFile[] = [
  { path: "package.json", content: JSON.stringify({ name: "calc", scripts: { test: "node test.js" } }) },
  { path: "calc.js", content: "exports.add = (a, b) => a + b;\n" },
  { path: "test.js", content: "const assert = require('assert');\nassert.strictEqual(require('./calc').add(2, 3), 5);\n" },
];

type Org = { orgId: string; apiKey: string };
type ErrorBody = { error: { code: string; message: string } };
const send = (path: string, method: string, token: string, body?: unknown) =>
  api(path, { method, token, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }) });
const settings = (org: Org, patch: Record<string, unknown>) => send(`/api/orgs/${org.orgId}/settings`, "PATCH", org.apiKey, patch);
const assemble = (org: Org, body: Record<string, unknown>) => send("/api/context/assemble", "POST", org.apiKey, body);
const generate = (org: Org, body: Record<string, unknown>) => send("/api/ai/generate-prototype", "POST", org.apiKey, body);
const requests = async (): Promise<unknown[]> => (await fetch(`${env.ANTHROPIC_BASE_URL}/__requests`)).json();

const clients: Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});
async function mcpCall(token: string, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const client = new Client({ name: "winky-test", version: "1.0.0" }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  await client.connect(
    new StreamableHTTPClientTransport(new URL("https://winky.test/mcp"), {
      fetch: (url, init) => SELF.fetch(url, init),
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  clients.push(client);
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

describe("org governance settings", () => {
  it("reads the defaults, stores each setting, and null restores its default", async () => {
    const org = await newOrg("gov");
    const view = await json(await send(`/api/orgs/${org.orgId}/settings`, "GET", org.apiKey), 200);
    expect(view).toMatchObject({ maxContextTokens: null, allowedModels: null, generationDefault: "on", complianceMode: false });
    const set = await json(
      await settings(org, { maxContextTokens: 100_000, allowedModels: ["claude-opus-4-7"], generationDefault: "off", complianceMode: true }),
      200,
    );
    expect(set).toMatchObject({ maxContextTokens: 100_000, allowedModels: ["claude-opus-4-7"], generationDefault: "off", complianceMode: true });
    const cleared = await json(await settings(org, { maxContextTokens: null, allowedModels: null, generationDefault: null, complianceMode: null }), 200);
    expect(cleared).toMatchObject({ maxContextTokens: null, allowedModels: null, generationDefault: "on", complianceMode: false });
  });

  it("refuses a limit below generation's smallest budget, and another org's settings (404) or a read key (403)", async () => {
    const org = await newOrg("gov");
    const other = await newOrg("gov-other");
    const bad = await json<ErrorBody & { error: { issues: { path: string }[] } }>(await settings(org, { maxContextTokens: 1000 }), 400);
    expect(bad.error.issues.map((i) => i.path)).toEqual(["maxContextTokens"]);
    await json(await settings(other, { complianceMode: true }), 200);
    const foreign = await json<ErrorBody>(await settings({ orgId: org.orgId, apiKey: other.apiKey }, { complianceMode: true }), 404);
    expect(foreign.error.code).toBe("not_found");
    const read = await json<{ apiKey: string }>(await send("/api/keys", "POST", org.apiKey, { name: "r", scopes: ["read"] }), 201);
    expect((await json<ErrorBody>(await settings({ ...org, apiKey: read.apiKey }, { complianceMode: true }), 403)).error.code).toBe("forbidden");
    // The other org turned compliance on for itself only.
    expect(await json(await send(`/api/orgs/${org.orgId}/settings`, "GET", org.apiKey), 200)).toMatchObject({ complianceMode: false });
  });
});

describe("the context budget limit", () => {
  it('refuses a budget over the org\'s limit naming it, caps "max" to it, and caps the default', async () => {
    const org = await newOrg("gov");
    const projectId = await ingestTree(files, {}, org.apiKey);
    await json(await settings(org, { maxContextTokens: 100_000 }), 200);
    const over = await json<ErrorBody>(await assemble(org, { projectId, prompt: "where is add", budget: 200_000 }), 400);
    expect(over.error.code).toBe("budget_over_limit");
    expect(over.error.message).toContain("org's maxContextTokens of 100000");
    expect((await json(await assemble(org, { projectId, prompt: "where is add", budget: "max" }), 200)).tokenBudget).toBe(100_000);
    expect((await json(await assemble(org, { projectId, prompt: "where is add" }), 200)).tokenBudget).toBe(100_000);
    expect((await json(await assemble(org, { projectId, prompt: "where is add", budget: 8192 }), 200)).tokenBudget).toBe(8192);
  });

  it("takes the lower of the org's and the project's limits, on REST, session, generation and MCP alike", async () => {
    const org = await newOrg("gov");
    const projectId = await ingestTree(files, {}, org.apiKey);
    await json(await settings(org, { maxContextTokens: 100_000 }), 200);
    const patched = await json(await send(`/api/projects/${projectId}`, "PATCH", org.apiKey, { maxContextTokens: 50_000 }), 200);
    expect(patched).toMatchObject({ maxContextTokens: 50_000, generationEnabled: true });
    const over = await json<ErrorBody>(await assemble(org, { projectId, prompt: "where is add", budget: 60_000 }), 400);
    expect(over.error.message).toContain("project's maxContextTokens of 50000");

    const session = await json<{ sessionId: string }>(await send("/api/sessions", "POST", org.apiKey, { projectId }), 201);
    const inSession = `/api/sessions/${session.sessionId}/assemble`;
    expect((await json(await send(inSession, "POST", org.apiKey, { prompt: "where is add", budget: "max" }), 200)).tokenBudget).toBe(50_000);
    expect((await json<ErrorBody>(await send(inSession, "POST", org.apiKey, { prompt: "where is add", budget: 60_000 }), 400)).error.code).toBe(
      "budget_over_limit",
    );

    const dry = await json<{ contextMeta: { tokenBudget: number } }>(
      await generate(org, { projectId, prompt: "add mul", maxContextTokens: "max", dryRun: true }),
      200,
    );
    expect(dry.contextMeta.tokenBudget).toBe(50_000);
    const genOver = await json<ErrorBody>(await generate(org, { projectId, prompt: "add mul", maxContextTokens: 60_000, dryRun: true }), 400);
    expect(genOver.error).toMatchObject({ code: "budget_over_limit", message: expect.stringContaining("maxContextTokens 60000") });

    const tool = await mcpCall(org.apiKey, "assemble_context", { projectId, prompt: "where is add", budget: "max" });
    expect(tool.isError ?? false).toBe(false);
    expect((tool.structuredContent as { tokenBudget: number }).tokenBudget).toBe(50_000);
    const toolOver = await mcpCall(org.apiKey, "assemble_context", { projectId, prompt: "where is add", budget: 60_000 });
    expect(toolOver.isError).toBe(true);
    expect(JSON.stringify(toolOver.content)).toContain("budget_over_limit");
  });

  it("refuses another org's project limit change (404) and a read key's (403)", async () => {
    const org = await newOrg("gov");
    const other = await newOrg("gov-other");
    const projectId = await ingestTree(files, {}, org.apiKey);
    expect((await json<ErrorBody>(await send(`/api/projects/${projectId}`, "PATCH", other.apiKey, { maxContextTokens: 20_000 }), 404)).error.code).toBe(
      "not_found",
    );
    const read = await json<{ apiKey: string }>(await send("/api/keys", "POST", org.apiKey, { name: "r", scopes: ["read"] }), 201);
    await json(await send(`/api/projects/${projectId}`, "PATCH", read.apiKey, { generationEnabled: false }), 403);
    expect(await json(await send(`/api/projects/${projectId}`, "GET", org.apiKey), 200)).toMatchObject({ maxContextTokens: null, generationEnabled: true });
  });
});

describe("allowed models", () => {
  it("refuses an assembly or a generation naming a model the org does not allow", async () => {
    const org = await newOrg("gov");
    const projectId = await ingestTree(files, {}, org.apiKey);
    await json(await settings(org, { allowedModels: ["claude-opus-4-7"] }), 200);
    const refused = await json<ErrorBody>(await assemble(org, { projectId, prompt: "where is add", budget: 8192 }), 400);
    expect(refused.error).toMatchObject({ code: "model_not_allowed", message: expect.stringContaining("claude-opus-4-7") });
    await json(await assemble(org, { projectId, prompt: "where is add", budget: 8192, model: "claude-opus-4-7" }), 200);
    // Generation uses the configured model (the default here), which the org does not allow.
    expect((await json<ErrorBody>(await generate(org, { projectId, prompt: "add mul", dryRun: true }), 400)).error.code).toBe("model_not_allowed");
  });
});

describe("generation opt-in", () => {
  it("starts new projects disabled in an org whose default is off, until a project opts in", async () => {
    const org = await newOrg("gov");
    const before = await ingestTree(files, {}, org.apiKey);
    await json(await settings(org, { generationDefault: "off" }), 200);
    const projectId = await ingestTree(files, {}, org.apiKey);
    expect(await json(await send(`/api/projects/${projectId}`, "GET", org.apiKey), 200)).toMatchObject({ generationEnabled: false });
    expect((await json<ErrorBody>(await generate(org, { projectId, prompt: "add mul", dryRun: true }), 403)).error.code).toBe("generation_disabled");
    // A project made before the default changed keeps generation.
    await json(await generate(org, { projectId: before, prompt: "add mul", dryRun: true }), 200);
    await json(await send(`/api/projects/${projectId}`, "PATCH", org.apiKey, { generationEnabled: true }), 200);
    await json(await generate(org, { projectId, prompt: "add mul", dryRun: true }), 200);
  });
});

describe("compliance mode", () => {
  it("sends nothing to the model endpoint: generation answers 403 while assembly and search still work", async () => {
    const org = await newOrg("gov");
    const projectId = await ingestTree(files, {}, org.apiKey);
    await json(await settings(org, { complianceMode: true }), 200);
    const marker = `m-${crypto.randomUUID()}`;
    const plan = JSON.stringify({ summary: "add mul", steps: [{ description: "add mul", files: ["calc.js"] }] });
    await fetch(`${env.ANTHROPIC_BASE_URL}/__reply?match=${encodeURIComponent(marker)}`, { method: "PUT", body: plan });
    for (const body of [
      { projectId, prompt: `Add mul ${marker}` },
      { projectId, prompt: `Add mul ${marker}`, dryRun: true },
    ]) {
      expect((await json<ErrorBody>(await generate(org, body), 403)).error.code).toBe("compliance_mode");
    }
    const proposed = await mcpCall(org.apiKey, "propose_change", { projectId, prompt: `Add mul ${marker}` });
    expect(proposed.isError).toBe(true);
    expect(JSON.stringify(proposed.content)).toContain("compliance_mode");
    const session = await json<{ sessionId: string }>(await send("/api/sessions", "POST", org.apiKey, { projectId }), 201);
    expect((await json<ErrorBody>(await generate(org, { projectId, sessionId: session.sessionId, prompt: `Add mul ${marker}` }), 403)).error.code).toBe(
      "compliance_mode",
    );
    expect((await requests()).filter((r) => JSON.stringify(r).includes(marker))).toEqual([]);

    const assembled = await json<{ contextPieces: { sourcePath: string }[] }>(await assemble(org, { projectId, prompt: "where is add", budget: 8192 }), 200);
    expect(assembled.contextPieces.map((p) => p.sourcePath)).toContain("calc.js");
    const search = await mcpCall(org.apiKey, "search_code", { projectId, query: "add" });
    expect(search.isError ?? false).toBe(false);
    expect(JSON.stringify(search.structuredContent)).toContain("calc.js");
  });
});
