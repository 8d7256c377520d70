/**
 * The assert stage end to end, against the local Messages API: a plan and a change that cite chunks and
 * lines of their prompt pass with no extra call; an answer without sources is asked once more with that
 * instruction, and what stays unsourced marks the result `unsupported_claims` with the list — in the
 * answer and in the decision log.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, ingestTree, json } from "../support/api";
import type { TreeFile } from "../support/archives";

const files: TreeFile[] = [
  { path: "package.json", content: JSON.stringify({ name: "calc", scripts: { test: "node test.js" } }) },
  { path: "calc.js", content: "exports.add = (a, b) => a + b;\n" },
  { path: "test.js", content: "const assert = require('assert');\nassert.strictEqual(require('./calc').add(2, 3), 5);\n" },
];

type Claims = { status: string; unsupported: { pass: string; claim: string; problem: string }[] };
type Generated = { id: string; plan: { steps: { sources: string[] }[] }; sources: { claim: string; chunkIds: string[] }[]; claims: Claims };
type Logged = { calls: { pass: string }[]; decisions: { kind: string; pass: string | null; reason: string }[]; claims: Claims };
type Sent = { path: string; body: { messages: { role: string; content: string }[] } };

const reply = (match: string, text: string) => fetch(`${env.ANTHROPIC_BASE_URL}/__reply?match=${encodeURIComponent(match)}`, { method: "PUT", body: text });
const requests = async (): Promise<Sent[]> => (await fetch(`${env.ANTHROPIC_BASE_URL}/__requests`)).json();
const generate = async (projectId: string, prompt: string) =>
  json<Generated>(
    await api("/api/ai/generate-prototype", {
      method: "POST",
      body: JSON.stringify({ projectId, prompt, verify: false }),
      headers: { "content-type": "application/json" },
    }),
    200,
  );
const decisionLog = async (id: string) => json<Logged>(await api(`/api/generations/${id}`), 200);

const CONTENT = "exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b;\n";
// `{{source:calc.js}}` is filled by the local Messages API with calc.js's chunk id and lines as that request sent them.
const plan = (description: string, sources: string[]) => JSON.stringify({ summary: "add mul", steps: [{ description, files: ["calc.js"], sources }] });
const change = (claim: string, chunkIds: string[]) => JSON.stringify({ files: [{ path: "calc.js", content: CONTENT }], sources: [{ claim, chunkIds }] });
const CITATION = /^chk_[^:]+:\d+-\d+$/;

describe("the assert stage against the Messages API", () => {
  it("accepts a plan and a change whose every claim cites a chunk and lines that were in the prompt", async () => {
    const projectId = await ingestTree(files);
    const marker = `m-${crypto.randomUUID()}`;
    await reply(`${marker}\n\nAnswer with JSON only`, plan("add mul to calc.js", ["{{source:calc.js}}"]));
    await reply(`${marker}\n\nPlan:`, change("calc.js exports add, beside which mul goes", ["{{source:calc.js}}"]));
    const res = await generate(projectId, `Add a multiply helper ${marker}`);

    expect(res.claims).toEqual({ status: "supported", unsupported: [] });
    expect(res.plan.steps[0]?.sources).toEqual([expect.stringMatching(CITATION)]);
    expect(res.sources[0]?.chunkIds).toEqual([expect.stringMatching(CITATION)]);
    // No pass was asked again: one call for the plan, one for the change.
    const log = await decisionLog(res.id);
    expect(log.calls.map((c) => c.pass)).toEqual(["plan", "expand"]);
    expect(log.decisions.filter((d) => d.kind === "sources")).toEqual([]);
    expect(log.claims).toEqual({ status: "supported", unsupported: [] });
  });

  it("asks once more for sources, then marks what is still unsourced as unsupported_claims with the list", async () => {
    const projectId = await ingestTree(files);
    const marker = `m-${crypto.randomUUID()}`;
    const step = `add mul to calc.js ${marker}`;
    const claim = `mul multiplies ${marker}`;
    await reply(`${marker}\n\nAnswer with JSON only`, plan(step, []));
    // The one repair of each pass: answered again without sources.
    await reply(`no source that was in the prompt:\n- "${step}"`, plan(step, []));
    await reply(`${marker}\n\nPlan:`, change(claim, []));
    await reply(`no source that was in the prompt:\n- "${claim}"`, change(claim, []));
    const res = await generate(projectId, `Add a multiply helper ${marker}`);

    expect(res.claims).toEqual({
      status: "unsupported_claims",
      unsupported: [
        { pass: "plan", claim: step, problem: "cites no source" },
        { pass: "expand", claim, problem: "cites no source" },
      ],
    });
    // Exactly one follow-up per pass, carrying the instruction and the claim it is about.
    const followUps = (await requests()).filter((r) => r.path === "/v1/messages" && r.body.messages.length === 3 && JSON.stringify(r.body).includes(marker));
    expect(followUps).toHaveLength(2);
    for (const [r, what] of [
      [followUps[0], step],
      [followUps[1], claim],
    ] as const) {
      const instruction = r?.body.messages.at(-1)?.content ?? "";
      expect(instruction).toContain(`- "${what}": cites no source`);
      expect(instruction).toContain("each claim and step citing at least one chunkId:startLine-endLine");
    }
    const log = await decisionLog(res.id);
    expect(log.calls.map((c) => c.pass)).toEqual(["plan", "plan sources", "expand", "expand sources"]);
    expect(log.decisions.filter((d) => d.kind === "sources").map((d) => d.pass)).toEqual(["plan", "expand"]);
    expect(log.claims).toEqual(res.claims);
  });

  it("accepts an answer its one repair sourced", async () => {
    const projectId = await ingestTree(files);
    const marker = `m-${crypto.randomUUID()}`;
    const step = `add mul to calc.js ${marker}`;
    await reply(`${marker}\n\nAnswer with JSON only`, plan(step, ["chk_never_sent:1-2"]));
    await reply(`no source that was in the prompt:\n- "${step}"`, plan(step, ["{{source:calc.js}}"]));
    await reply(`${marker}\n\nPlan:`, change("calc.js exports add", ["{{source:calc.js}}"]));
    const res = await generate(projectId, `Add a multiply helper ${marker}`);

    expect(res.claims).toEqual({ status: "supported", unsupported: [] });
    expect(res.plan.steps[0]?.sources).toEqual([expect.stringMatching(CITATION)]);
    const log = await decisionLog(res.id);
    expect(log.calls.map((c) => c.pass)).toEqual(["plan", "plan sources", "expand"]);
    expect(log.decisions.find((d) => d.kind === "sources")?.reason).toContain(step);
  });
});
