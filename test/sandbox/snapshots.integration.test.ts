/** Snapshots by reference: a run records a snapshot id and its change, never the tree; the workspace streams in bounded batches. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { runKey } from "../../src/lib/sandbox/runs";
import { takeSnapshot } from "../../src/lib/sandbox/snapshot";
import { snapshotBatches } from "../../src/lib/sandbox/snapshot-batches";
import { openDb } from "../../src/lib/storage";
import { api, ingestTree, json, waitForJob } from "../support/api";
import { tarGz } from "../support/archives";

type Run = { runId: string; status: string; results: { stdout: string; exitCode: number | null }[] };

const start = (body: unknown) => api("/api/sandbox/runs", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

async function reingest(projectId: string, files: { path: string; content: string }[]): Promise<void> {
  const { jobId } = await json<{ jobId: string }>(
    await api(`/api/projects/${projectId}/ingest`, { method: "POST", body: await tarGz(files), headers: { "content-type": "application/gzip" } }),
    202,
  );
  expect((await waitForJob(jobId)).status).toBe("done");
}

describe("sandbox snapshots by reference", () => {
  it("stores no file text in a run's input, and a replay after the project changed sees the original files", async () => {
    const secret = "the original text of calc.js, long enough to notice";
    const projectId = await ingestTree([
      { path: "calc.js", content: `// ${secret}\nexports.add = (a, b) => a + b;\n` },
      { path: "other.js", content: "exports.x = 1;\n" },
    ]);
    const run = await json<Run>(await start({ projectId, commands: ["cat calc.js other.js"], change: { files: [{ path: "new.js", content: "1\n" }] } }), 200);
    expect(run.results[0]?.stdout).toContain(secret);
    const stored = await (await env.CHUNKS.get(runKey(projectId, run.runId, "input.json")))?.text();
    expect(stored).toBeDefined();
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain("exports.x");
    expect(JSON.parse(stored ?? "{}")).toMatchObject({
      snapshotId: expect.any(String),
      overlay: { files: [{ path: "new.js", content: "1\n" }], deletions: [] },
    });

    await reingest(projectId, [
      { path: "calc.js", content: "exports.add = () => 0;\n" },
      { path: "other.js", content: "exports.x = 2;\n" },
    ]);
    const replay = await json<Run & { sameOutcome: boolean }>(await api(`/api/sandbox/runs/${run.runId}/replay`, { method: "POST" }), 200);
    expect(replay.results[0]?.stdout).toBe(run.results[0]?.stdout);
    expect(replay.sameOutcome).toBe(true);
  });

  it("materialises a project larger than one batch completely and in order, one bounded batch at a time", async () => {
    const files = Array.from({ length: 23 }, (_, i) => ({ path: `src/f${String(i).padStart(2, "0")}.txt`, content: `${"line\n".repeat(50 + i)}` }));
    const projectId = await ingestTree(files);
    const db = openDb(env.DB);
    const snapshotId = `snap_${crypto.randomUUID()}`;
    await takeSnapshot(db, projectId, snapshotId);
    const limits = { maxFiles: 5, maxBytes: 1_000 };
    const batches = [];
    for await (const b of snapshotBatches(db, env.CHUNKS, snapshotId, { files: [], deletions: [] }, limits)) batches.push(b);
    for (const b of batches) {
      expect(b.files.length).toBeLessThanOrEqual(limits.maxFiles);
      // One file alone may exceed maxBytes; a batch of several never does.
      if (b.files.length > 1) expect(b.files.reduce((n, f) => n + f.content.length, 0)).toBeLessThanOrEqual(limits.maxBytes);
    }
    expect(batches.length).toBeGreaterThanOrEqual(Math.ceil(files.length / limits.maxFiles));
    expect(batches.flatMap((b) => b.files)).toEqual(files);
  });

  it("lays the change over the snapshot: changed files replace theirs, deleted ones are left out", async () => {
    const projectId = await ingestTree([
      { path: "a.txt", content: "a\n" },
      { path: "b.txt", content: "b\n" },
      { path: "c.txt", content: "c\n" },
    ]);
    const run = await json<Run>(
      await start({ projectId, commands: ["ls; cat a.txt"], change: { files: [{ path: "a.txt", content: "A\n" }], deletions: ["b.txt"] } }),
      200,
    );
    expect(run.results[0]?.stdout).toBe("a.txt\nc.txt\nA\n");
  });
});
