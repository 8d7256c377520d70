import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, ingestTree, json } from "../support/api";
import type { TreeFile } from "../support/archives";

const awsKey = `AKIA${"QWERTYUIOPASDFGH"}`;
const jsProject: TreeFile[] = [
  { path: "package.json", content: JSON.stringify({ name: "calc", scripts: { test: "node test.js" } }) },
  { path: "calc.js", content: "exports.add = (a, b) => a + b;\n" },
  { path: "config.js", content: `module.exports = { awsAccessKey: "${awsKey}" };\n` },
  {
    path: "test.js",
    content: "const assert = require('assert');\nconst { add } = require('./calc');\nassert.strictEqual(add(2, 3), 5);\nconsole.log('ok');\n",
  },
];

type Generated = {
  id: string;
  plan: { summary: string };
  diffs: { path?: string }[];
  verification: { status: string }[];
  repairs: number;
  warnings: string[];
  contextMeta: { chunksUsed: string[]; tokensUsedForContext: number };
  previewUrl: string;
};

const project = (): Promise<string> => ingestTree(jsProject);

const reply = (match: string, text: string) => fetch(`${env.ANTHROPIC_BASE_URL}/__reply?match=${encodeURIComponent(match)}`, { method: "PUT", body: text });
const requests = async (): Promise<unknown[]> => (await fetch(`${env.ANTHROPIC_BASE_URL}/__requests`)).json();
const generate = (body: unknown) =>
  api("/api/ai/generate-prototype", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

const plan = JSON.stringify({ summary: "add a multiply helper", steps: [{ description: "add mul to calc.js", files: ["calc.js"] }] });
const change = (body: string, chunkIds: string[] = []) =>
  JSON.stringify({ files: [{ path: "calc.js", content: body }], sources: [{ claim: "calc.js exports add", chunkIds }] });

describe("POST /api/ai/generate-prototype", () => {
  it("plans, expands and verifies a change; reports citations of chunks that were not sent", async () => {
    const projectId = await project();
    const marker = `m-${crypto.randomUUID()}`;
    await reply(`${marker}\n\nAnswer with JSON only`, `Here is the plan:\n${plan}`);
    await reply(`${marker}\n\nPlan:`, change("exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b;\n", ["chk_not_sent"]));
    const res = await json<Generated>(await generate({ projectId, prompt: `Add a multiply helper ${marker}` }), 200);
    expect(res.plan.summary).toBe("add a multiply helper");
    expect(res.diffs).toEqual([{ path: "calc.js", content: expect.stringContaining("exports.mul") }]);
    expect(res.verification).toEqual([{ runId: expect.any(String), status: "passed" }]);
    expect(res.warnings).toEqual(['claim "calc.js exports add" cites chk_not_sent, which was not in the context sent']);
    expect(res.contextMeta.chunksUsed.length).toBeGreaterThan(0);
    const row = await env.DB.prepare("SELECT model, result_meta FROM context_sessions WHERE session_id = ?")
      .bind(res.id)
      .first<{ model: string; result_meta: string }>();
    expect(JSON.parse(row?.result_meta ?? "{}")).toMatchObject({ repairs: 0, usage: { inputTokens: expect.any(Number) } });
  });

  it("repairs a change that fails in the sandbox, and invalid JSON", async () => {
    const projectId = await project();
    const marker = `m-${crypto.randomUUID()}`;
    await reply(`${marker}\n\nAnswer with JSON only`, "I think we should add mul.");
    await reply("That answer is not valid: no JSON object found", plan);
    await reply(`${marker}\n\nPlan:`, change("exports.add = (a, b) => a - b;\n"));
    await reply(`${marker}\n\nThe proposed change fails`, change("exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b;\n"));
    const res = await json<Generated>(await generate({ projectId, prompt: `Add a multiply helper ${marker}` }), 200);
    expect(res.verification.map((v) => v.status)).toEqual(["failed", "passed"]);
    expect(res.repairs).toBe(1);
    expect(res.plan.summary).toBe("add a multiply helper");
  });

  it("returns the exact prompts with dryRun, without calling the model", async () => {
    const projectId = await project();
    const before = (await requests()).length;
    const res = await json<{ prompts: { plan: string; expand: string } }>(await generate({ projectId, prompt: "Add a multiply helper", dryRun: true }), 200);
    expect(res.prompts.plan).toContain("---RELEVANT_SNIPPETS---");
    expect(res.prompts.expand).toContain("---USER_INSTRUCTION---");
    expect((await requests()).length).toBe(before);
  });

  it("sends no raw secret to the model", async () => {
    const projectId = await project();
    const marker = `m-${crypto.randomUUID()}`;
    await reply(`${marker}\n\nAnswer with JSON only`, plan);
    await reply(`${marker}\n\nPlan:`, change("exports.add = (a, b) => a + b;\n"));
    await json<Generated>(await generate({ projectId, prompt: `Use the AWS config ${marker}`, hotPaths: ["config.js"] }), 200);
    const sent = JSON.stringify(await requests());
    expect(sent).toContain(marker);
    expect(sent).toContain("[REDACTED:aws-access-key]");
    expect(sent).not.toContain(awsKey);
  });
});
