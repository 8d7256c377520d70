/**
 * Model-written summaries, end to end: the ingestion queue sends each new content to the local Messages
 * API once (per project), the project's budget and compliance mode stop it, a refused call leaves the
 * extractive summary with the failure recorded, and assembly reads the model's summary in place of the
 * extractive one. Each test's files carry a marker, so requests of test files running at once are told apart.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { buildPathLookup, createRetrievalStore, TermCountsCache } from "../../src/lib/index-store";
import { openDb } from "../../src/lib/storage";
import type { SummaryMessage } from "../../src/lib/summaries/messages";
import { CHUNK_SYSTEM, DIR_SYSTEM, FILE_SYSTEM, ROLLUP_SYSTEM } from "../../src/lib/summaries/prompts";
import { MAX_CALLS_PER_MESSAGE, summarizeFiles } from "../../src/lib/summaries/summarize";
import { api, createProject, json, newOrg, waitForJob } from "../support/api";
import { type TreeFile, tarGz } from "../support/archives";

type Sent = { path: string; body: { model: string; system?: string; messages: { content: string }[] } };
type Report = {
  enabled: boolean;
  reason: string | null;
  budgetUsd: number | null;
  spentUsdThisMonth: number;
  files: number;
  modelSummaries: number;
  pending: number;
  byStatus: Record<"done" | "reused" | "failed" | "budget" | "skipped", number>;
  modelDirectories: number;
  failures: { path: string; detail: string }[];
};

const base = env.ANTHROPIC_BASE_URL as string;
const reply = (match: string, text: string) => fetch(`${base}/__reply?match=${encodeURIComponent(match)}`, { method: "PUT", body: text });
const sent = async (marker: string, system?: string): Promise<Sent[]> =>
  ((await (await fetch(`${base}/__requests`)).json()) as Sent[]).filter(
    (r) => r.path === "/v1/messages" && JSON.stringify(r.body).includes(marker) && (system === undefined || r.body.system === system),
  );
const jsonHeaders = { "content-type": "application/json" };

async function orgWith(settings: Record<string, unknown>): Promise<string> {
  const org = await newOrg("summaries");
  await json(await api(`/api/orgs/${org.orgId}/settings`, { method: "PATCH", token: org.apiKey, body: JSON.stringify(settings), headers: jsonHeaders }), 200);
  return org.apiKey;
}

async function ingest(token: string, files: TreeFile[], projectId?: string, body: Record<string, unknown> = {}): Promise<string> {
  const id = projectId ?? (await createProject(token, body));
  const { jobId } = await json<{ jobId: string }>(
    await api(`/api/projects/${id}/ingest`, { method: "POST", token, body: await tarGz(files), headers: { "content-type": "application/gzip" } }),
    202,
  );
  expect((await waitForJob(jobId, token)).status).toBe("done");
  return id;
}

const report = async (token: string, projectId: string): Promise<Report> => json<Report>(await api(`/api/projects/${projectId}/summaries`, { token }), 200);

/** Polls the report until `settled` holds (the queue works after the job is done); fails with the last report after a minute or so. */
async function settle(token: string, projectId: string, settled: (r: Report) => boolean): Promise<Report> {
  for (let i = 0; ; i++) {
    const r = await report(token, projectId);
    if (settled(r)) return r;
    if (i === 300) expect.fail(`summaries did not settle: ${JSON.stringify(r)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const pyFile = (path: string, marker: string, lines = 3): TreeFile => ({
  path,
  content: `"""Helpers ${marker}."""\n${Array.from({ length: lines }, (_, i) => `def helper_${i}_${marker.replace(/-/g, "_")}(x):\n    return x + ${i}\n`).join("")}`,
});

describe("model-written summaries", () => {
  it("summarises each content once per project: a re-ingest, an unchanged file and a copy at another path send nothing new", async () => {
    const m = `m${crypto.randomUUID().slice(0, 8)}`;
    const token = await orgWith({ modelSummaries: "on" });
    const a = pyFile(`pkg/a_${m}.py`, `${m}-a`);
    const b = pyFile(`pkg/b_${m}.py`, `${m}-b`);
    await reply(`File: pkg/a_${m}.py`, `Model summary of a ${m}: adds numbers.`);
    const projectId = await ingest(token, [a, b]);
    let r = await settle(token, projectId, (x) => x.byStatus.done === 2);
    expect(r).toMatchObject({ enabled: true, files: 2, modelSummaries: 2, pending: 0 });
    expect((await sent(m, FILE_SYSTEM)).map((s) => s.body.model)).toEqual(["claude-haiku-4-5", "claude-haiku-4-5"]);
    // The same tree again, plus a copy of a's content at another path, and b changed.
    const b2 = pyFile(`pkg/b_${m}.py`, `${m}-b2`);
    await ingest(token, [a, b2, { path: `lib/copy_${m}.py`, content: a.content }], projectId);
    r = await settle(token, projectId, (x) => x.pending === 0 && x.byStatus.reused === 1 && x.byStatus.done === 2);
    expect(r.modelSummaries).toBe(3);
    const fileCalls = await sent(m, FILE_SYSTEM);
    expect(fileCalls).toHaveLength(3);
    expect(fileCalls.filter((c) => c.body.messages[0]?.content.includes(`lib/copy_${m}.py`))).toEqual([]);
    // Directories are summarised from their files' summaries.
    // The root, pkg/ and lib/ (the root's listing names no file, so its call carries no marker).
    r = await settle(token, projectId, (x) => x.modelDirectories >= 3);
    expect((await sent(m, DIR_SYSTEM)).length).toBeGreaterThanOrEqual(2);
    // Usage shows the calls under their own kind and model.
    const usage = await json<{ rows: { kind: string | null; model: string | null; costUsd: number; requests: number }[] }>(
      await api("/api/usage", { token }),
      200,
    );
    const rows = usage.rows.filter((u) => u.kind === "summary");
    expect(rows.map((u) => u.model)).toEqual(["claude-haiku-4-5"]);
    expect(rows[0]?.requests).toBeGreaterThanOrEqual(5);
    expect(rows[0]?.costUsd).toBeGreaterThan(0);
    // The report's spend is read from the same rows (a later directory call may have added to them since).
    expect(r.spentUsdThisMonth).toBeGreaterThan(0);
    expect(rows[0]?.costUsd).toBeGreaterThanOrEqual(r.spentUsdThisMonth);
  });

  it("assembly reads the model's summary in place of the extractive one; the extractive one stays stored", async () => {
    const m = `m${crypto.randomUUID().slice(0, 8)}`;
    const token = await orgWith({ modelSummaries: "on" });
    // Over 2,000 tokens: the file comes in as an excerpt, so its summary joins the fill.
    const big = pyFile(`big_${m}.py`, `${m}-big`, 220);
    const summary = `Model summary ${m}: many small helpers${m} that add a constant.`;
    await reply(`File: big_${m}.py`, summary);
    const projectId = await ingest(token, [big, pyFile(`small_${m}.py`, `${m}-s`)]);
    await settle(token, projectId, (x) => x.byStatus.done === 2);
    const assembled = await json<{ contextPieces: { kind: string; sourcePath: string }[]; contextText: string }>(
      await api("/api/context/assemble", {
        method: "POST",
        token,
        headers: jsonHeaders,
        body: JSON.stringify({ projectId, prompt: `helper_3 ${m}`, includeText: true }),
      }),
      200,
    );
    expect(assembled.contextPieces.filter((p) => p.kind === "file-summary").map((p) => p.sourcePath)).toContain(`big_${m}.py`);
    expect(assembled.contextText).toContain(summary);
    const stored = await env.DB.prepare("SELECT content FROM summaries WHERE project_id = ? AND level = 'file' AND path = ?")
      .bind(projectId, `big_${m}.py`)
      .first<{ content: string }>();
    expect(stored?.content).toContain("defines:");
    // With the feature off (WINKY_RANKING_OFF=model-summaries, the eval's comparison) only the extractive ones are read and searched.
    const word = `helpers${m}`.toLowerCase();
    const read = (modelSummaries: boolean) =>
      runInDurableObject(env.PROJECT_INDEX.getByName(projectId), async (_o, state) => {
        const store = createRetrievalStore(state.storage.sql, {
          paths: () => buildPathLookup([]),
          fileTokens: () => new Map(),
          termCounts: new TermCountsCache(state.storage.sql),
          embedder: {} as never,
          vectors: () => ({}) as never,
          modelSummaries,
        });
        return { text: store.fileSummaries([`big_${m}.py`], "cl100k_base")[0]?.text, matches: store.summaryMatches([word], 10).map((x) => x.path) };
      });
    expect(await read(true)).toEqual({ text: summary, matches: [`big_${m}.py`] });
    expect(await read(false)).toEqual({ text: expect.stringContaining("defines:"), matches: [] });
  });

  it("summarises a large file chunk by chunk, then from its chunks' summaries", async () => {
    const m = `m${crypto.randomUUID().slice(0, 8)}`;
    const token = await orgWith({ modelSummaries: "on" });
    const path = `huge_${m}.py`;
    for (let i = 1; i <= 12; i++) await reply(`File: ${path} (part ${i} of`, `Part ${i} of ${m} defines helpers.`);
    await reply(`File: ${path}\n\nPart 1:`, `Rolled-up summary ${m}.`);
    const projectId = await ingest(token, [pyFile(path, `${m}-h`, 700)], undefined, { chunkTokens: 2000, overlapTokens: 128 });
    await settle(token, projectId, (x) => x.byStatus.done === 1);
    const chunks = await sent(m, CHUNK_SYSTEM);
    expect(chunks.length).toBeGreaterThan(1);
    expect(await sent(m, ROLLUP_SYSTEM)).toHaveLength(1);
    expect((await sent(m, FILE_SYSTEM)).length).toBe(0);
  });

  it("stops at the project's budget and records the files left", async () => {
    const m = `m${crypto.randomUUID().slice(0, 8)}`;
    // Any call costs more than a millionth of a dollar: the first one spends the budget.
    const token = await orgWith({ modelSummaries: "on", summaryBudgetUsd: 0.000001 });
    const projectId = await ingest(token, [pyFile(`a_${m}.py`, `${m}-a`), pyFile(`b_${m}.py`, `${m}-b`), pyFile(`c_${m}.py`, `${m}-c`)]);
    const r = await settle(token, projectId, (x) => x.pending === 0);
    expect(r.byStatus).toMatchObject({ done: 1, budget: 2 });
    expect(r.failures.map((f) => f.detail)).toEqual([
      expect.stringContaining("summary budget is used up"),
      expect.stringContaining("summary budget is used up"),
    ]);
    expect(await sent(m, FILE_SYSTEM)).toHaveLength(1);
  });

  it("a refused call leaves the extractive summary and records why", async () => {
    const m = `m${crypto.randomUUID().slice(0, 8)}`;
    const token = await orgWith({ modelSummaries: "on" });
    await fetch(`${base}/__fail`, { method: "PUT", body: JSON.stringify([{ status: 400, retryAfter: "0", match: `File: bad_${m}.py` }]) });
    await reply(`File: empty_${m}.py`, "   ");
    const projectId = await ingest(token, [pyFile(`bad_${m}.py`, `${m}-bad`), pyFile(`empty_${m}.py`, `${m}-e`), pyFile(`ok_${m}.py`, `${m}-ok`)]);
    const r = await settle(token, projectId, (x) => x.pending === 0);
    expect(r.byStatus).toMatchObject({ done: 1, failed: 2 });
    expect(Object.fromEntries(r.failures.map((f) => [f.path, f.detail]))).toEqual({
      [`bad_${m}.py`]: expect.stringContaining("refused the call"),
      [`empty_${m}.py`]: expect.stringContaining("answered nothing"),
    });
  });

  it("an unavailable API fails the message, which the queue retries; finished files are not paid again", async () => {
    const m = `m${crypto.randomUUID().slice(0, 8)}`;
    const token = await orgWith({ modelSummaries: "on" });
    // Three 529s use up the SDK's own attempts (1 + 2 retries); the queue's retry then succeeds.
    await fetch(`${base}/__fail`, { method: "PUT", body: JSON.stringify([{ status: 529, retryAfter: "0", match: `File: b_${m}.py`, times: 3 }]) });
    const projectId = await ingest(token, [pyFile(`a_${m}.py`, `${m}-a`), pyFile(`b_${m}.py`, `${m}-b`)]);
    const r = await settle(token, projectId, (x) => x.byStatus.done === 2);
    expect(r.byStatus.failed).toBe(0);
    const calls = await sent(m, FILE_SYSTEM);
    expect(calls.filter((c) => c.body.messages[0]?.content.includes(`a_${m}.py`))).toHaveLength(1);
    expect(calls.filter((c) => c.body.messages[0]?.content.includes(`b_${m}.py`))).toHaveLength(4);
  });

  it("a summary message out of retries records its files as failed, never its job's batch", async () => {
    const m = `m${crypto.randomUUID().slice(0, 8)}`;
    const token = await orgWith({ modelSummaries: "off" });
    const projectId = await ingest(token, [pyFile(`a_${m}.py`, `${m}-a`)]);
    expect((await report(token, projectId)).pending).toBe(1);
    await env.INGEST_DLQ.send({ kind: "summarize", projectId, jobId: "job_dead", paths: [`a_${m}.py`] });
    const r = await settle(token, projectId, (x) => x.byStatus.failed === 1);
    expect(r.failures).toEqual([expect.objectContaining({ path: `a_${m}.py`, detail: expect.stringContaining("every retry") })]);
  });

  it("a message makes a bounded number of calls and hands the rest of its files to a new message", async () => {
    const m = `m${crypto.randomUUID().slice(0, 8)}`;
    // The org keeps the deployment's default (off in tests), so the queue leaves these files alone.
    const org = await newOrg("bounded");
    const files = Array.from({ length: MAX_CALLS_PER_MESSAGE + 1 }, (_, i) => pyFile(`f${String(i).padStart(3, "0")}_${m}.py`, `${m}-${i}`));
    const projectId = await ingest(org.apiKey, files);
    const calls: string[] = [];
    const sentMessages: SummaryMessage[] = [];
    const deps = {
      db: openDb(env.DB),
      shards: env.PROJECT_INDEX,
      send: async (msg: SummaryMessage) => void sentMessages.push(msg),
      model: () => ({
        model: "claude-haiku-4-5",
        complete: async (_s: string, user: string) => {
          calls.push(user);
          return { text: `summary ${calls.length}`, usage: { inputTokens: 10, outputTokens: 2 }, costUsd: 0.00002 };
        },
      }),
      modelName: "claude-haiku-4-5",
      deploymentDefault: true,
      dirDelaySeconds: 0,
    };
    await summarizeFiles(deps, { kind: "summarize", projectId, jobId: "job_x", paths: files.map((f) => f.path) });
    expect(calls).toHaveLength(MAX_CALLS_PER_MESSAGE);
    expect(sentMessages).toEqual([{ kind: "summarize", projectId, jobId: "job_x", paths: [files.at(-1)?.path] }]);
    await summarizeFiles(deps, sentMessages[0] as Extract<SummaryMessage, { kind: "summarize" }>);
    expect(calls).toHaveLength(MAX_CALLS_PER_MESSAGE + 1);
    expect(sentMessages[1]).toEqual({ kind: "summarize-dirs", projectId, continued: false });
    expect((await report(org.apiKey, projectId)).byStatus.done).toBe(MAX_CALLS_PER_MESSAGE + 1);
  });

  it("compliance mode: nothing reaches the model, from the queue or from a message already in it", async () => {
    const m = `m${crypto.randomUUID().slice(0, 8)}`;
    const token = await orgWith({ modelSummaries: "on", complianceMode: true });
    const projectId = await ingest(token, [pyFile(`a_${m}.py`, `${m}-a`)]);
    const r = await report(token, projectId);
    expect(r).toMatchObject({ enabled: false, reason: expect.stringContaining("compliance mode"), pending: 1 });
    // A message sent before the org turned compliance mode on is refused by the step itself.
    const calls: string[] = [];
    await summarizeFiles(
      {
        db: openDb(env.DB),
        shards: env.PROJECT_INDEX,
        send: async () => undefined,
        model: () => ({
          model: "claude-haiku-4-5",
          complete: async (_s, user) => {
            calls.push(user);
            return { text: "x", usage: { inputTokens: 1, outputTokens: 1 }, costUsd: 0 };
          },
        }),
        modelName: "claude-haiku-4-5",
        deploymentDefault: true,
        dirDelaySeconds: 0,
      },
      { kind: "summarize", projectId, jobId: "job_x", paths: [`a_${m}.py`] },
    );
    expect(calls).toEqual([]);
    expect((await report(token, projectId)).byStatus.skipped).toBe(1);
    expect(await sent(m)).toEqual([]);
  });

  it("a backfill summarises what was ingested while summaries were off, once; refused while they are off", async () => {
    const m = `m${crypto.randomUUID().slice(0, 8)}`;
    const org = await newOrg("summaries");
    const settings = (modelSummaries: string) =>
      api(`/api/orgs/${org.orgId}/settings`, { method: "PATCH", token: org.apiKey, body: JSON.stringify({ modelSummaries }), headers: jsonHeaders });
    await json(await settings("off"), 200);
    const projectId = await ingest(org.apiKey, [pyFile(`pkg/a_${m}.py`, `${m}-a`), pyFile(`pkg/b_${m}.py`, `${m}-b`)]);
    const backfill = () => api(`/api/projects/${projectId}/summaries/backfill`, { method: "POST", token: org.apiKey });
    expect((await report(org.apiKey, projectId)).pending).toBe(2);

    const off = await json<{ error: { code: string; message: string } }>(await backfill(), 409);
    expect(off.error).toMatchObject({ code: "summaries_off", message: "model summaries are off" });
    expect(await sent(m)).toHaveLength(0);

    await json(await settings("on"), 200);
    await reply(`File: pkg/a_${m}.py`, `Backfilled summary of a ${m}.`);
    expect(await json<{ files: number; messages: number }>(await backfill(), 202)).toMatchObject({ files: 2, messages: 1 });
    const r = await settle(org.apiKey, projectId, (x) => x.byStatus.done === 2);
    expect(r).toMatchObject({ pending: 0, modelSummaries: 2 });
    expect(await sent(m, FILE_SYSTEM)).toHaveLength(2);
    // Nothing is left to ask for: a second backfill queues nothing and sends nothing.
    expect(await json<{ files: number }>(await backfill(), 202)).toMatchObject({ files: 0 });
    expect(await sent(m, FILE_SYSTEM)).toHaveLength(2);
  });

  it("another org's identical content is summarised for that org, never read from this one's cache", async () => {
    const m = `m${crypto.randomUUID().slice(0, 8)}`;
    const file = pyFile(`same_${m}.py`, `${m}-same`);
    const first = await orgWith({ modelSummaries: "on" });
    await reply(`File: same_${m}.py`, `Org one's summary ${m}.`);
    const p1 = await ingest(first, [file]);
    await settle(first, p1, (x) => x.byStatus.done === 1);
    const second = await orgWith({ modelSummaries: "on" });
    await reply(`File: same_${m}.py`, `Org two's summary ${m}.`);
    const p2 = await ingest(second, [file]);
    const r = await settle(second, p2, (x) => x.pending === 0);
    expect(r.byStatus).toMatchObject({ done: 1, reused: 0 });
    expect(await sent(m, FILE_SYSTEM)).toHaveLength(2);
    // Each org's project reads its own; neither reaches the other's report.
    await json(await api(`/api/projects/${p1}/summaries`, { token: second }), 404);
    const stored = (projectId: string) =>
      runInDurableObject(env.PROJECT_INDEX.getByName(projectId), async (_o, state) =>
        state.storage.sql
          .exec<{ content: string }>("SELECT content FROM model_summaries WHERE level = 'file'")
          .toArray()
          .map((x) => x.content),
      );
    expect(await stored(p1)).toEqual([`Org one's summary ${m}.`]);
    expect(await stored(p2)).toEqual([`Org two's summary ${m}.`]);
  });
});
