/**
 * The optional rerank at assembly time, against the local Messages API: the small model's order is
 * applied, an invalid answer or a failed call falls back to the unreranked order (said in the result),
 * its cost is metered under its own kind, and compliance mode refuses an explicit rerank and skips the
 * org's default without a call.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { RERANK_SYSTEM } from "../../src/lib/model/rerank";
import { api, createProject, json, newOrg, waitForJob } from "../support/api";
import { type TreeFile, tarGz } from "../support/archives";

type Assembled = {
  contextPieces: { kind: string; sourcePath: string }[];
  warnings: string[];
  timings: Record<string, number>;
  rerank?: { status: string; model: string; candidates: number; order?: string[]; reason?: string; costUsd: number };
};
type Sent = { path: string; body: { model: string; system?: string; messages: { content: string }[] } };

const base = env.ANTHROPIC_BASE_URL as string;
const reply = (match: string, text: string) => fetch(`${base}/__reply?match=${encodeURIComponent(match)}`, { method: "PUT", body: text });
const sent = async (marker: string): Promise<Sent[]> =>
  ((await (await fetch(`${base}/__requests`)).json()) as Sent[]).filter((r) => r.path === "/v1/messages" && JSON.stringify(r.body).includes(marker));
const jsonHeaders = { "content-type": "application/json" };

async function setup(settings: Record<string, unknown> = {}): Promise<{ token: string; projectId: string; m: string }> {
  const m = `r${crypto.randomUUID().slice(0, 8)}`;
  const org = await newOrg("rerank");
  if (Object.keys(settings).length)
    await json(await api(`/api/orgs/${org.orgId}/settings`, { method: "PATCH", token: org.apiKey, body: JSON.stringify(settings), headers: jsonHeaders }), 200);
  const files: TreeFile[] = ["alpha", "beta", "gamma", "delta"].map((name, i) => ({
    path: `src/${name}.py`,
    content: `"""The ${name} parser."""\ndef parse_${name}(text):\n    return text.split(${JSON.stringify(",".repeat(i + 1))})\n`,
  }));
  const projectId = await createProject(org.apiKey);
  const { jobId } = await json<{ jobId: string }>(
    await api(`/api/projects/${projectId}/ingest`, {
      method: "POST",
      token: org.apiKey,
      body: await tarGz(files),
      headers: { "content-type": "application/gzip" },
    }),
    202,
  );
  expect((await waitForJob(jobId, org.apiKey)).status).toBe("done");
  return { token: org.apiKey, projectId, m };
}

const assemble = async (token: string, body: Record<string, unknown>, status = 200): Promise<Assembled> =>
  json<Assembled>(await api("/api/context/assemble", { method: "POST", token, headers: jsonHeaders, body: JSON.stringify(body) }), status);

/** Files in the order the context takes them. */
const fileOrder = (a: Assembled): string[] => [...new Set(a.contextPieces.filter((p) => p.kind === "chunk").map((p) => p.sourcePath))];

describe("rerank", () => {
  it("is off by default, and sends nothing", async () => {
    const { token, projectId, m } = await setup();
    const a = await assemble(token, { projectId, prompt: `parse the input ${m}` });
    expect(a.rerank).toBeUndefined();
    expect(await sent(m)).toEqual([]);
  });

  it("puts the top files in the order the model answers, and meters the call as kind rerank", async () => {
    const { token, projectId, m } = await setup();
    const prompt = `parse the input text ${m}`;
    const before = fileOrder(await assemble(token, { projectId, prompt }));
    expect(before).toHaveLength(4);
    await reply(m, JSON.stringify({ ranking: [3, 2, 1, 0] }));
    const after = await assemble(token, { projectId, prompt, rerank: true });
    expect(after.rerank).toMatchObject({ status: "applied", model: "claude-haiku-4-5", candidates: 4, order: [...before].reverse() });
    expect(fileOrder(after)).toEqual([...before].reverse());
    expect(after.timings.rerank).toBeGreaterThanOrEqual(0);
    const calls = await sent(m);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toMatchObject({ model: "claude-haiku-4-5", system: RERANK_SYSTEM });
    // The prompt is bounded: the request and each candidate's path and summary, not the files.
    expect(calls[0]?.body.messages[0]?.content).toContain("[0] ");
    expect(calls[0]?.body.messages[0]?.content).not.toContain("return text.split");
    const usage = await json<{ rows: { kind: string | null; model: string | null; requests: number; costUsd: number }[] }>(
      await api("/api/usage", { token }),
      200,
    );
    expect(usage.rows.filter((r) => r.kind === "rerank")).toEqual([expect.objectContaining({ model: "claude-haiku-4-5", requests: 1 })]);
  });

  it("an invalid answer or a failed call leaves the unreranked order, and says so", async () => {
    const { token, projectId, m } = await setup();
    const prompt = `parse the input text ${m}`;
    const before = fileOrder(await assemble(token, { projectId, prompt }));
    await reply(m, JSON.stringify({ ranking: [0, 0, 9] }));
    const invalid = await assemble(token, { projectId, prompt, rerank: true });
    expect(invalid.rerank).toMatchObject({ status: "invalid", reason: expect.stringContaining("not a valid ranking") });
    expect(invalid.warnings).toContainEqual(expect.stringContaining("rerank invalid"));
    expect(fileOrder(invalid)).toEqual(before);
    await fetch(`${base}/__fail`, { method: "PUT", body: JSON.stringify([{ status: 400, retryAfter: "0", match: m }]) });
    const failed = await assemble(token, { projectId, prompt, rerank: true });
    expect(failed.rerank).toMatchObject({ status: "failed", costUsd: 0 });
    expect(fileOrder(failed)).toEqual(before);
    // The invalid answer was billed: it is metered; the refused call was not.
    const usage = await json<{ rows: { kind: string | null; requests: number }[] }>(await api("/api/usage", { token }), 200);
    expect(usage.rows.filter((r) => r.kind === "rerank").map((r) => r.requests)).toEqual([1]);
  });

  it("the org's setting turns it on; a request can turn it off", async () => {
    const { token, projectId, m } = await setup({ rerank: true });
    await reply(m, JSON.stringify({ ranking: [1, 0] }));
    expect((await assemble(token, { projectId, prompt: `parse ${m}` })).rerank?.status).toBe("applied");
    expect((await assemble(token, { projectId, prompt: `parse ${m}`, rerank: false })).rerank).toBeUndefined();
    expect(await sent(m)).toHaveLength(1);
  });

  it("compliance mode: an explicit rerank is refused, the org's default is skipped; nothing reaches the model", async () => {
    const { token, projectId, m } = await setup({ rerank: true, complianceMode: true });
    const refused = await json<{ error: { code: string } }>(
      await api("/api/context/assemble", {
        method: "POST",
        token,
        headers: jsonHeaders,
        body: JSON.stringify({ projectId, prompt: `parse ${m}`, rerank: true }),
      }),
      403,
    );
    expect(refused.error.code).toBe("compliance_mode");
    const skipped = await assemble(token, { projectId, prompt: `parse ${m}` });
    expect(skipped.rerank).toMatchObject({ status: "skipped", reason: expect.stringContaining("compliance mode"), costUsd: 0 });
    expect(await sent(m)).toEqual([]);
  });

  it("a model the org does not allow: explicit 400, default skipped; bad input is a 400", async () => {
    const { token, projectId, m } = await setup({ rerank: true, allowedModels: ["claude-sonnet-5-5"] });
    await assemble(token, { projectId, prompt: `parse ${m}`, rerank: true }, 400);
    expect((await assemble(token, { projectId, prompt: `parse ${m}` })).rerank?.status).toBe("skipped");
    await assemble(token, { projectId, prompt: `parse ${m}`, rerank: "yes" }, 400);
    await assemble(token, { projectId, prompt: `parse ${m}`, rerank: true, rerankTopK: 1 }, 400);
    expect(await sent(m)).toEqual([]);
  });
});
