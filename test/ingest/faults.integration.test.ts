/**
 * Faults injected into the ingestion path (src/lib/resilience/faults.ts): whatever fails, the job ends
 * done (or failed with a reason), with no duplicate rows or objects, and the index equals a clean ingest.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { type FaultPlan, resetFaults, setFaultPlan } from "../../src/lib/resilience/faults";
import worker from "../../workers/index";
import { api, createProject, json, waitForJob } from "../support/api";
import { type TreeFile, tarGz } from "../support/archives";

const tree: TreeFile[] = [
  ...Array.from({ length: 12 }, (_, i) => ({
    path: `src/module${i}.ts`,
    content: Array.from({ length: 80 }, (_, j) => `export function handler${i}_${j}(input: string): string {\n  return input.repeat(${j});\n}\n`).join("\n"),
  })),
  { path: "README.md", content: "# Faults\n\nThe handlers answer requests.\n" },
  { path: "docs/guide.md", content: "How handler3_7 repeats its input.\n" },
];

type State = { files: unknown[]; chunks: unknown[]; objects: number; query: unknown[] };

async function ingest(projectId: string): Promise<{ jobId: string; status: string }> {
  const res = await api(`/api/projects/${projectId}/ingest`, { method: "POST", body: await tarGz(tree), headers: { "content-type": "application/gzip" } });
  const { jobId } = await json<{ jobId: string }>(res, 202);
  return { jobId, status: (await waitForJob(jobId)).status };
}

/** Everything a clean ingest determines, without the project's own ids. */
async function stateOf(projectId: string): Promise<State> {
  const files = await env.DB.prepare("SELECT path, sha256, status, token_count, chunk_count FROM files WHERE project_id = ? ORDER BY path")
    .bind(projectId)
    .all();
  const chunks = await env.DB.prepare("SELECT path, ordinal, start_line, end_line, sha256, token_count FROM chunks WHERE project_id = ? ORDER BY path, ordinal")
    .bind(projectId)
    .all();
  const objects = (await env.CHUNKS.list({ prefix: `projects/${projectId}/` })).objects.length;
  const assembled = await json<{ contextPieces: { sourcePath: string; startLine: number; endLine: number; kind: string }[] }>(
    await api("/api/context/assemble", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ projectId, prompt: "handler3_7 repeats its input", budget: 6000 }),
    }),
    200,
  );
  return {
    files: files.results,
    chunks: chunks.results,
    objects,
    // The last piece may be cut to the room left, which differs by a token or two between projects
    // (chunk ids, and so source lines, differ): its end line is left out.
    query: assembled.contextPieces
      .filter((p) => p.kind === "chunk")
      .map((p, i, all) => (i === all.length - 1 ? [p.sourcePath, p.startLine] : [p.sourcePath, p.startLine, p.endLine])),
  };
}

let clean: State | undefined;
async function cleanState(): Promise<State> {
  if (!clean) {
    const projectId = await createProject();
    expect((await ingest(projectId)).status).toBe("done");
    clean = await stateOf(projectId);
  }
  return clean;
}

afterEach(() => resetFaults());

const cases: [string, FaultPlan][] = [
  ["R2 puts fail", { r2Put: { failTimes: 2, message: "R2 put failed: 500 internal" } }],
  ["R2 reads are slow", { r2Get: { delayMs: 300 } }],
  ["D1 answers SQLITE_BUSY", { d1Batch: { failTimes: 1, message: "D1_ERROR: database is locked: SQLITE_BUSY" } }],
  [
    "the shard is reset in the middle of indexFiles",
    { shardIndex: { failTimes: 1, partial: true, message: "Durable Object reset because its code was updated." } },
  ],
  ["the shard never answers", { shardIndex: { hang: true, failTimes: 1 }, deadlines: { shard: 500 } }],
  ["the consumer crashes after its commit, before its ack", { crashAfterCommit: { failTimes: 1, message: "worker exceeded its memory limit" } }],
];

describe("ingestion under injected faults", () => {
  it.each(cases)("%s: the job ends done and the index equals a clean ingest", async (_name, plan) => {
    const expected = await cleanState();
    const projectId = await createProject();
    setFaultPlan(plan);
    const { jobId, status } = await ingest(projectId);
    resetFaults();
    expect(status).toBe("done");
    const job = await json<{ attempts: number }>(await api(`/api/jobs/${jobId}`), 200);
    if (plan.r2Put || plan.d1Batch || plan.shardIndex || plan.crashAfterCommit) expect(job.attempts).toBeGreaterThan(0);
    expect(await stateOf(projectId)).toEqual(expected);
  });

  it("every message delivered twice more after the job is done changes nothing", async () => {
    const projectId = await createProject();
    const { jobId } = await ingest(projectId);
    const before = await stateOf(projectId);
    const rows = await env.DB.prepare("SELECT message FROM job_batches WHERE job_id = ?").bind(jobId).all<{ message: string }>();
    const bodies = rows.results.flatMap((r) => [JSON.parse(r.message), JSON.parse(r.message)]);
    const batch = createMessageBatch(
      "winky-ingest",
      bodies.map((body, i) => ({ id: `dup-${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.length).toBe(bodies.length);
    expect(await stateOf(projectId)).toEqual(before);
  });
});
