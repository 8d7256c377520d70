import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SYSTEM_PROMPT } from "../../src/lib/assembly/prompt";
import { sha256Hex } from "../../src/lib/crypto/hash";
import { api, ingestTree, json, newOrg } from "../support/api";
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
    expect(sent).toContain("[secret:aws-access-token]");
    expect(sent).not.toContain(awsKey);
  });

  it("trims a prompt the API counts over the budget, dropping the lowest-priority pieces", async () => {
    // 40 modules of about 700 tokens: far more than a 16k budget holds.
    const modules: TreeFile[] = Array.from({ length: 40 }, (_, i) => ({
      path: `src/mod${i}.js`,
      content: Array.from({ length: 40 }, (_, j) => `export function handler${i}_${j}(input) { return input.value${j} * ${i + j} + offset${i}; }\n`).join(""),
    }));
    const projectId = await ingestTree([...jsProject, ...modules]);
    const marker = `m-${crypto.randomUUID()}`;
    const prompt = `Make every handler validate its input ${marker}`;
    const untrimmed = await json<Generated>(await generate({ projectId, prompt, maxContextTokens: 16_000, hotPaths: ["src/mod1.js"], dryRun: true }), 200);
    // The API counts about twice what the local estimate does for this project's prompts.
    await fetch(`${env.ANTHROPIC_BASE_URL}/__count?match=${encodeURIComponent(marker)}&factor=0.6`, { method: "PUT" });
    await reply(`${marker}\n\nAnswer with JSON only`, plan);
    await reply(`${marker}\n\nPlan:`, change("exports.add = (a, b) => a + b;\n"));
    const res = await json<Generated>(await generate({ projectId, prompt, maxContextTokens: 16_000, hotPaths: ["src/mod1.js"], verify: false }), 200);
    // The plan pass is trimmed; the expand pass starts from the count ratio the plan pass measured.
    expect(res.warnings.filter((w) => w.includes("assembled again"))).toEqual([expect.stringMatching(/^plan: the API counted \d+ tokens/)]);
    expect(res.contextMeta.chunksUsed.length).toBeLessThan(untrimmed.contextMeta.chunksUsed.length);
    // The hot path ranks first, so it survives the trim.
    const hotChunk = untrimmed.contextMeta.chunksUsed[0];
    expect(res.contextMeta.chunksUsed).toContain(hotChunk);
    const mine = ((await requests()) as { path: string; body: { system: string; messages: { content: string }[] } }[]).filter((r) =>
      JSON.stringify(r.body).includes(marker),
    );
    // The passes' own calls (one user turn); the follow-ups asking for sources come after them.
    const sentToModel = mine.filter((r) => r.path === "/v1/messages" && r.body.messages.length === 1);
    expect(sentToModel).toHaveLength(2);
    for (const r of sentToModel) {
      const chars = r.body.system.length + r.body.messages.map((m) => m.content).join("").length;
      expect(Math.ceil(chars * 0.6)).toBeLessThanOrEqual(16_000);
      expect(r.body.system).toBe(SYSTEM_PROMPT);
    }
    // The plan was counted over the limit, then again; the expand pass fitted at its first count.
    expect(mine.filter((r) => r.path === "/v1/messages/count_tokens")).toHaveLength(3);
  });

  it("answers a model outage on the long-context call with segmented generation and a cross-check", async () => {
    const projectId = await project();
    const marker = `m-${crypto.randomUUID()}`;
    // As the plan is echoed in later prompts: with its defaults filled in.
    const planJson = JSON.stringify({ summary: `fallback ${marker}`, steps: [{ description: "add mul to calc.js", files: ["calc.js"], sources: [] }] });
    await reply(`${marker}\n\nAnswer with JSON only`, planJson);
    // The expand call fails on every attempt the SDK makes (the first and 4 retries).
    await fetch(`${env.ANTHROPIC_BASE_URL}/__fail`, {
      method: "PUT",
      body: JSON.stringify([{ status: 529, retryAfter: "0.01", match: `${planJson}\n\n${"Answer with JSON only"}`, times: 5 }]),
    });
    await reply(`${planJson}\n\nThis is part 1 of 2`, change("exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b;\n"));
    await reply(`${planJson}\n\nThis is part 2 of 2`, JSON.stringify({ files: [], sources: [] }));
    await reply(`${planJson}\n\nThe change was proposed in 2 parts`, change("exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b;\n"));
    const res = await json<Generated & { segmented: boolean }>(await generate({ projectId, prompt: `Add a multiply helper ${marker}` }), 200);
    expect(res.segmented).toBe(true);
    expect(res.warnings.some((w) => w.includes("generated in segments and cross-checked"))).toBe(true);
    expect(res.verification).toEqual([{ runId: expect.any(String), status: "passed" }]);
    expect(res.diffs).toEqual([{ path: "calc.js", content: expect.stringContaining("exports.mul") }]);
    // Each pass's own call (one user turn), not the follow-ups asking for sources.
    const mine = ((await requests()) as { path: string; body: { messages: unknown[] } }[]).filter(
      (r) => r.path === "/v1/messages" && r.body.messages.length === 1 && JSON.stringify(r.body).includes(marker),
    );
    const texts = mine.map((r) => JSON.stringify(r.body));
    expect(texts.filter((t) => t.includes("This is part 1 of 2"))).toHaveLength(1);
    expect(texts.filter((t) => t.includes("This is part 2 of 2"))).toHaveLength(1);
    expect(texts.filter((t) => t.includes("The change was proposed in 2 parts"))).toHaveLength(1);
    const row = await env.DB.prepare("SELECT result_meta FROM context_sessions WHERE session_id = ?").bind(res.id).first<{ result_meta: string }>();
    const meta = JSON.parse(row?.result_meta ?? "{}") as { segmented: boolean; calls: { pass: string; chunks: string[]; at: string; promptSha256: string }[] };
    expect(meta.segmented).toBe(true);
    // The plan and the cross-check cite nothing, so each is asked once more for sources (the assert stage).
    const passCalls = meta.calls.filter((c) => !c.pass.endsWith(" sources"));
    expect(passCalls.map((c) => c.pass)).toEqual(["plan", "segment 1", "segment 2", "cross-check"]);
    expect(meta.calls.map((c) => c.pass)).toEqual(expect.arrayContaining(["plan sources", "cross-check sources"]));
    expect(meta.calls.every((c) => c.chunks.length > 0 && !Number.isNaN(Date.parse(c.at)) && /^[0-9a-f]{64}$/.test(c.promptSha256))).toBe(true);
    // Each call's fingerprint is the hash of exactly what the API received.
    const received = await Promise.all(
      mine.map(async (r) => {
        const b = r.body as { system: string; messages: unknown[] };
        return sha256Hex(JSON.stringify({ system: b.system, messages: b.messages }));
      }),
    );
    for (const c of passCalls) expect(received).toContain(c.promptSha256);
  });

  it("makes the files of approved changes a priority signal of later assemblies; rejected ones are not", async () => {
    const projectId = await ingestTree([
      ...jsProject,
      { path: "util.js", content: "exports.twice = (n) => n * 2;\n" },
      ...Array.from({ length: 30 }, (_, i) => ({ path: `lib/part${i}.js`, content: `exports.part${i} = () => "section ${i} of the report";\n` })),
    ]);
    const run = async (file: string) => {
      const marker = `m-${crypto.randomUUID()}`;
      await reply(`${marker}\n\nAnswer with JSON only`, plan);
      await reply(`${marker}\n\nPlan:`, JSON.stringify({ files: [{ path: file, content: "exports.changed = true;\n" }], sources: [] }));
      return (await json<Generated>(await generate({ projectId, prompt: `Change ${file} ${marker}`, verify: false }), 200)).id;
    };
    const approved = await run("calc.js");
    const rejected = await run("util.js");
    const feedback = (id: string, body: unknown, token?: string) =>
      api(`/api/ai/generations/${id}/feedback`, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { "content-type": "application/json" },
        ...(token ? { token } : {}),
      });
    expect(await json(await feedback(approved, { approved: true, note: "looks right" }), 200)).toMatchObject({ approved: true, paths: ["calc.js"] });
    expect(await json(await feedback(rejected, { approved: false }), 200)).toMatchObject({ approved: false, paths: ["util.js"] });
    expect((await json<{ error: { code: string } }>(await feedback(approved, { approved: "yes" }), 400)).error.code).toBe("invalid_request");
    expect((await json<{ error: { code: string } }>(await feedback("gen_missing", { approved: true }), 404)).error.code).toBe("not_found");
    const other = await newOrg("o");
    expect((await feedback(approved, { approved: false }, other.apiKey)).status).toBe(404);

    const ctx = await json<{ contextPieces: { sourcePath: string; reasons: string[] }[] }>(
      await api("/api/context/assemble", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ projectId, prompt: "section of the report", budget: 4096 }),
      }),
      200,
    );
    const reasonsOf = (path: string) => ctx.contextPieces.find((p) => p.sourcePath === path)?.reasons ?? [];
    expect(reasonsOf("calc.js")).toContain("ai feedback");
    expect(reasonsOf("util.js")).not.toContain("ai feedback");
    const row = await env.DB.prepare("SELECT result_meta FROM context_sessions WHERE session_id = ?").bind(approved).first<{ result_meta: string }>();
    expect(JSON.parse(row?.result_meta ?? "{}")).toMatchObject({ changedPaths: ["calc.js"], feedback: { approved: true, note: "looks right" } });
  });
});
