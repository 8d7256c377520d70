/**
 * The MCP endpoint driven by the SDK's own client over Streamable HTTP, against the real Worker: tools
 * listed with their schemas, each tool's answer on an ingested project, paging, progress, and errors
 * as tool errors carrying the API's codes.
 */

import { env, SELF } from "cloudflare:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, api, ingestTree, json, newOrg } from "../support/api";

const MATH = [
  "// Matrix helpers.",
  "export function multiplyMatrix(a: number[][], b: number[][]): number[][] {",
  "  return a.map((row) => b[0].map((_, j) => row.reduce((s, x, k) => s + x * b[k][j], 0)));",
  "}",
  "",
  "export const IDENTITY = [[1, 0], [0, 1]];",
  "",
].join("\n");
const APP = ['import { multiplyMatrix, IDENTITY } from "./math";', "", "export const squared = multiplyMatrix(IDENTITY, IDENTITY);", ""].join("\n");
// Unrelated text, enough of it (about 45k tokens) that a large budget spans several pages.
const FILLER = Array.from({ length: 30 }, (_, i) => ({
  path: `notes/note-${i}.md`,
  content: Array.from({ length: 120 }, (_, l) => `Note ${i} line ${l}: the harbour ferry timetable lists departures ${i * l} and arrivals.`).join("\n"),
}));

const clients: Client[] = [];

async function connect(token: string = ADMIN): Promise<Client> {
  const client = new Client({ name: "winky-test", version: "1.0.0" }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  const transport = new StreamableHTTPClientTransport(new URL("https://winky.test/mcp"), {
    fetch: (url, init) => SELF.fetch(url, init),
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  clients.push(client);
  return client;
}

const call = async (client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;

const textOf = (r: CallToolResult): string => r.content.map((c) => (c.type === "text" ? c.text : "")).join("");
const errorOf = (r: CallToolResult): { code: string; message: string; requestId: string } => {
  expect(r.isError, textOf(r)).toBe(true);
  return (JSON.parse(textOf(r)) as { error: { code: string; message: string; requestId: string } }).error;
};
const structured = <T>(r: CallToolResult): T => {
  expect(r.isError ?? false, textOf(r)).toBe(false);
  return r.structuredContent as T;
};

async function mint(scopes: string[]): Promise<string> {
  const res = await api("/api/keys", { method: "POST", body: JSON.stringify({ name: "mcp", scopes }), headers: { "content-type": "application/json" } });
  return (await json<{ apiKey: string }>(res, 201)).apiKey;
}

let projectId: string;
let admin: Client;

beforeAll(async () => {
  projectId = await ingestTree([{ path: "src/math.ts", content: MATH }, { path: "src/app.ts", content: APP }, ...FILLER]);
  admin = await connect();
});

afterAll(async () => {
  for (const c of clients) await c.close();
});

describe("MCP over Streamable HTTP at /mcp", () => {
  it("lists the seven tools, each with an input and an output schema", async () => {
    const { tools } = await admin.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      ["assemble_context", "find_symbol", "index_status", "propose_change", "read_chunk", "read_file", "search_code"].sort(),
    );
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect(byName.get("assemble_context")?.inputSchema).toMatchObject({
      type: "object",
      properties: { projectId: { type: "string" }, prompt: { type: "string" }, budget: { anyOf: [{ type: "integer" }, { const: "max" }] } },
      required: expect.arrayContaining(["projectId", "prompt"]),
    });
    expect(byName.get("read_file")?.inputSchema.properties).toHaveProperty("startLine");
    for (const t of tools) {
      expect(t.inputSchema.type, t.name).toBe("object");
      expect(t.outputSchema?.type, t.name).toBe("object");
      expect(t.description?.length, t.name).toBeGreaterThan(40);
    }
    expect(byName.get("propose_change")?.annotations?.readOnlyHint).toBe(false);
    expect(byName.get("search_code")?.annotations?.readOnlyHint).toBe(true);
  });

  it("assemble_context returns the file the prompt is about, with its ---source line and pieces, and records the call", async () => {
    const r = await call(admin, "assemble_context", { projectId, prompt: "how does multiplyMatrix multiply two matrices?" });
    const out = structured<{
      callId: string;
      text: string;
      pieces: { chunkId: string; path: string; reasons: string[] }[];
      page: number;
      pages: number;
      nextPage: number | null;
      tokenBudget: number;
    }>(r);
    expect(out.tokenBudget).toBe(20_000);
    expect(out).toMatchObject({ page: 1, pages: 1, nextPage: null });
    const math = out.pieces.find((p) => p.path === "src/math.ts");
    expect(math?.reasons).toContain("lexical match");
    expect(out.text).toContain(`---source: ${math?.chunkId}, src/math.ts:1-`);
    expect(out.text).toContain("export function multiplyMatrix");
    // Only the context: not our model's system prompt or response format.
    expect(out.text).not.toContain("---SYSTEM---");
    expect(out.text).not.toContain("---RESPONSE_FORMAT---");
    expect(textOf(r)).toBe(out.text);
    const row = await env.DB.prepare("SELECT project_id FROM context_sessions WHERE session_id = ?").bind(out.callId).first<{ project_id: string }>();
    expect(row?.project_id).toBe(projectId);
  });

  it("assemble_context pages a budget larger than a page: page 2 continues where page 1 stopped", async () => {
    const args = { projectId, prompt: "harbour ferry timetable departures", budget: 60_000 };
    const first = structured<{ text: string; pages: number; nextPage: number | null; pieces: { chunkId: string; startLine: number }[] }>(
      await call(admin, "assemble_context", args),
    );
    expect(first.pages).toBeGreaterThan(1);
    expect(first.nextPage).toBe(2);
    const r2 = await call(admin, "assemble_context", { ...args, page: 2 });
    const second = structured<{ text: string; page: number; pieces: { chunkId: string; startLine: number }[] }>(r2);
    expect(second.page).toBe(2);
    expect(second.text.length).toBeGreaterThan(0);
    // A large file's first lines and its rest are two pieces of one chunk: a piece is a chunk id and a line range.
    const onFirst = new Set(first.pieces.map((p) => `${p.chunkId}:${p.startLine}`));
    expect(second.pieces.length).toBeGreaterThan(0);
    expect(second.pieces.filter((p) => onFirst.has(`${p.chunkId}:${p.startLine}`))).toEqual([]);
    expect(second.text.startsWith("---source: ")).toBe(true);
    expect(textOf(await call(admin, "assemble_context", args))).toContain("page: 2");
    expect(errorOf(await call(admin, "assemble_context", { ...args, page: 99 })).code).toBe("invalid_request");
  });

  it("search_code ranks the defining file first, with its lines and a preview", async () => {
    const out = structured<{ results: { chunkId: string; path: string; startLine: number; endLine: number; score: number; preview: string }[] }>(
      await call(admin, "search_code", { projectId, query: "multiplyMatrix", limit: 5 }),
    );
    expect(out.results[0]).toMatchObject({ path: "src/math.ts", startLine: 1, endLine: 6 });
    expect(out.results[0]?.preview).toContain("multiplyMatrix");
    expect(out.results.length).toBeLessThanOrEqual(5);
    expect(out.results.map((r) => r.path)).toContain("src/app.ts");
  });

  it("read_file returns numbered lines, a range of them, and where to continue", async () => {
    const whole = structured<{ text: string; totalLines: number; nextStartLine: number | null }>(
      await call(admin, "read_file", { projectId, path: "src/math.ts" }),
    );
    expect(whole.totalLines).toBe(6);
    expect(whole.nextStartLine).toBeNull();
    expect(whole.text.split("\n")).toEqual(
      MATH.split("\n")
        .slice(0, 6)
        .map((l, i) => `${i + 1}\t${l}`),
    );
    const range = await call(admin, "read_file", { projectId, path: "src/math.ts", startLine: 2, endLine: 3 });
    expect(structured<{ text: string; startLine: number; endLine: number }>(range)).toMatchObject({
      startLine: 2,
      endLine: 3,
      text: `2\t${MATH.split("\n")[1]}\n3\t${MATH.split("\n")[2]}`,
    });
    const partial = structured<{ endLine: number; nextStartLine: number | null }>(
      await call(admin, "read_file", { projectId, path: "notes/note-3.md", startLine: 1, endLine: 50 }),
    );
    expect(partial).toMatchObject({ endLine: 50, nextStartLine: null });
    expect(errorOf(await call(admin, "read_file", { projectId, path: "src/nope.ts" })).code).toBe("not_found");
  });

  it("read_chunk returns a chunk's lines numbered from its first line", async () => {
    const [hit] = structured<{ results: { chunkId: string }[] }>(await call(admin, "search_code", { projectId, query: "squared" })).results;
    const out = structured<{ path: string; startLine: number; text: string; superseded: boolean }>(await call(admin, "read_chunk", { chunkId: hit?.chunkId }));
    expect(out).toMatchObject({ path: "src/app.ts", startLine: 1, superseded: false });
    expect(out.text).toContain("3\texport const squared = multiplyMatrix(IDENTITY, IDENTITY);");
    expect(errorOf(await call(admin, "read_chunk", { chunkId: "chk_missing" }))).toMatchObject({ code: "not_found", message: "chunk not found" });
  });

  it("find_symbol finds the definition and its uses", async () => {
    const out = structured<{ definitions: { path: string; line: number }[]; references: { path: string }[]; imports: unknown[] }>(
      await call(admin, "find_symbol", { projectId, name: "multiplyMatrix" }),
    );
    expect(out.definitions).toEqual([expect.objectContaining({ path: "src/math.ts", line: 2 })]);
    expect(out.references.map((r) => r.path)).toContain("src/app.ts");
    const any = structured<{ definitions: { path: string }[] }>(await call(admin, "find_symbol", { projectId, name: "MULTIPLYMATRIX" }));
    expect(any.definitions.map((d) => d.path)).toEqual(["src/math.ts"]);
  });

  it("index_status lists the project and, for one, its last job's progress and freshness", async () => {
    const one = structured<{
      projects: {
        projectId: string;
        files: number;
        lastJob: { status: string };
        progress: { status: string; files: { total: number } };
        freshness: { basis: string };
      }[];
    }>(await call(admin, "index_status", { projectId }));
    expect(one.projects).toHaveLength(1);
    expect(one.projects[0]).toMatchObject({
      projectId,
      files: 32,
      lastJob: { status: "done" },
      progress: { status: "done", files: { total: 32 } },
      freshness: { basis: "upload" },
    });
    const all = structured<{ projects: { projectId: string }[] }>(await call(admin, "index_status", {}));
    expect(all.projects.map((p) => p.projectId)).toContain(projectId);
  });

  it("propose_change with dryRun returns the prompts the model would get", async () => {
    const out = structured<{ dryRun: boolean; prompts: { plan: string; expand: string } }>(
      await call(admin, "propose_change", { projectId, prompt: "add a transpose helper next to multiplyMatrix", dryRun: true }),
    );
    expect(out.dryRun).toBe(true);
    expect(out.prompts.expand).toContain("src/math.ts");
    expect(out.prompts.plan).toContain("---USER_INSTRUCTION---");
  });

  it("propose_change plans and expands a change, reporting progress per pass, and returns the diff and citations", async () => {
    const marker = `m-${crypto.randomUUID()}`;
    const reply = (match: string, text: string) => fetch(`${env.ANTHROPIC_BASE_URL}/__reply?match=${encodeURIComponent(match)}`, { method: "PUT", body: text });
    await reply(
      `${marker}\n\nAnswer with JSON only`,
      JSON.stringify({ summary: "add transpose", steps: [{ description: "add transpose to math.ts", files: ["src/math.ts"] }] }),
    );
    await reply(
      `${marker}\n\nPlan:`,
      JSON.stringify({
        files: [{ path: "src/math.ts", content: `${MATH}export const transpose = (m: number[][]) => m[0].map((_, j) => m.map((r) => r[j]));\n` }],
        sources: [{ claim: "math.ts defines multiplyMatrix", chunkIds: [] }],
      }),
    );
    const progress: string[] = [];
    const r = (await admin.callTool(
      { name: "propose_change", arguments: { projectId, prompt: `Add a transpose helper ${marker}`, verify: false } },
      undefined,
      {
        onprogress: (p) => progress.push(p.message ?? ""),
      },
    )) as CallToolResult;
    const out = structured<{
      dryRun: boolean;
      files: string[];
      diff: string;
      verification: unknown[];
      citations: { claim: string }[];
      plan: { summary: string };
    }>(r);
    expect(out).toMatchObject({ dryRun: false, files: ["src/math.ts"], verification: [], plan: { summary: "add transpose" } });
    expect(out.diff).toContain("export const transpose");
    expect(out.citations).toEqual([expect.objectContaining({ claim: "math.ts defines multiplyMatrix" })]);
    expect(progress).toEqual(expect.arrayContaining([expect.stringMatching(/^plan: add transpose$/), expect.stringMatching(/model answered/)]));
    expect(progress.some((m) => m.includes("tokens of context"))).toBe(true);
  });

  it("answers our errors as tool errors carrying the API's codes", async () => {
    const other = await newOrg("mcp-other");
    const foreign = await connect(other.apiKey);
    expect(errorOf(await call(foreign, "assemble_context", { projectId, prompt: "multiplyMatrix" }))).toMatchObject({
      code: "not_found",
      message: "project not found",
    });
    expect(errorOf(await call(foreign, "read_file", { projectId, path: "src/math.ts" })).code).toBe("not_found");
    const reader = await connect(await mint(["ingest"]));
    expect(errorOf(await call(reader, "search_code", { projectId, query: "multiplyMatrix" })).code).toBe("forbidden");
    const noGenerate = await connect(await mint(["read"]));
    expect(errorOf(await call(noGenerate, "propose_change", { projectId, prompt: "x", dryRun: true })).code).toBe("forbidden");
    expect(structured<{ results: unknown[] }>(await call(noGenerate, "search_code", { projectId, query: "multiplyMatrix" })).results.length).toBeGreaterThan(0);
    const bad = await call(admin, "read_file", { projectId, path: "src/math.ts", startLine: 0 });
    expect(bad.isError).toBe(true);
  });

  it("refuses a request without a valid key at the transport, in the API's envelope", async () => {
    const init = {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "cf-ray": "mcp" },
      body: "{}",
    };
    const none = await SELF.fetch("https://winky.test/mcp", init);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: { code: "unauthorized", message: "send Authorization: Bearer <token>", requestId: "mcp" } });
    const wrong = await SELF.fetch("https://winky.test/mcp", { ...init, headers: { ...init.headers, authorization: "Bearer wk_nope" } });
    expect(wrong.status).toBe(401);
    await expect(connect("wk_nope")).rejects.toThrow();
  });

  it("answers GET with 405: a stateless server opens no stream", async () => {
    const res = await SELF.fetch("https://winky.test/mcp", { headers: { authorization: `Bearer ${ADMIN}`, accept: "text/event-stream" } });
    expect(res.status, await res.clone().text()).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });
});
