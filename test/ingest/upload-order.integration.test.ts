/**
 * Uploads of one project sent at once are applied one at a time, newest last, so the project ends with
 * the later upload's tree, whole — never a mix of the two (src/lib/ingest/tree-order.ts).
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, createProject, type JobView, json, waitForJob } from "../support/api";
import { tarGz } from "../support/archives";

type Tree = { path: string; content: string }[];
type Accepted = { jobId: string; status: string };

async function upload(projectId: string, tree: Tree): Promise<Accepted> {
  return json<Accepted>(
    await api(`/api/projects/${projectId}/ingest`, { method: "POST", body: await tarGz(tree), headers: { "content-type": "application/gzip" } }),
    202,
  );
}

/** Every catalog row and chunk text of the project, by path. */
async function catalog(projectId: string): Promise<Record<string, string>> {
  const rows = await env.DB.prepare("SELECT path, sha256 FROM files WHERE project_id = ? ORDER BY path")
    .bind(projectId)
    .all<{ path: string; sha256: string }>();
  return Object.fromEntries(rows.results.map((r) => [r.path, r.sha256]));
}

/** The files the project's index shard holds, by path. */
async function shardFiles(projectId: string): Promise<Record<string, string>> {
  const rows = await runInDurableObject(env.PROJECT_INDEX.getByName(projectId), (_, state) =>
    state.storage.sql.exec<{ path: string; sha256: string }>("SELECT path, sha256 FROM files ORDER BY path").toArray(),
  );
  return Object.fromEntries(rows.map((r) => [r.path, r.sha256]));
}

async function cleanIngest(tree: Tree): Promise<Record<string, string>> {
  const projectId = await createProject();
  expect((await waitForJob((await upload(projectId, tree)).jobId)).status).toBe("done");
  return catalog(projectId);
}

// Enough files for several batches, so the first upload is still being applied when the next arrives.
const filler = (tag: string): Tree =>
  Array.from({ length: 600 }, (_, i) => ({ path: `gen/${tag}/m${i}.py`, content: `def f${i}():\n    return "${tag}-${i}" * ${i}\n` }));

const base: Tree = [
  { path: "common.py", content: "VERSION = 0\n" },
  { path: "keep.py", content: "KEEP = 'original'\n" },
  { path: "old.py", content: "OLD = True\n" },
];
// A changes keep.py; B holds keep.py as it was before A: B must not keep A's version of it.
const treeA: Tree = [
  { path: "common.py", content: "VERSION = 'A'\n" },
  { path: "keep.py", content: "KEEP = 'changed by A'\n" },
  { path: "a_only.py", content: "A = 1\n" },
  ...filler("a"),
];
const treeB: Tree = [
  { path: "common.py", content: "VERSION = 'B'\n" },
  { path: "keep.py", content: "KEEP = 'original'\n" },
  { path: "b_only.py", content: "B = 1\n" },
];
const treeC: Tree = [
  { path: "common.py", content: "VERSION = 'C'\n" },
  { path: "c_only.py", content: "C = 1\n" },
];

describe("uploads of one project at once", () => {
  it("are applied in order and the later upload's tree wins whole", async () => {
    const projectId = await createProject();
    expect((await waitForJob((await upload(projectId, base)).jobId)).status).toBe("done");

    const a = await upload(projectId, treeA);
    const b = await upload(projectId, treeB);
    expect(a.status).toBe("queued");
    expect(b.status).toBe("waiting");
    expect((await json<JobView>(await api(`/api/jobs/${b.jobId}`), 200)).status).toBe("waiting");

    const [doneA, doneB] = [await waitForJob(a.jobId), await waitForJob(b.jobId)];
    expect(doneA.status).toBe("done");
    expect(doneB.status).toBe("done");
    expect(Date.parse(doneA.finishedAt ?? "")).toBeLessThanOrEqual(Date.parse(doneB.finishedAt ?? ""));
    expect(await catalog(projectId)).toEqual(await cleanIngest(treeB));
    // The shard agrees with the catalog, path for path.
    expect(await shardFiles(projectId)).toEqual(await catalog(projectId));
  });

  it("skip a waiting upload overtaken by a newer one, which it names", async () => {
    const projectId = await createProject();
    const a = await upload(projectId, treeA);
    const b = await upload(projectId, treeB);
    const c = await upload(projectId, treeC);
    expect([a.status, b.status, c.status]).toEqual(["queued", "waiting", "waiting"]);
    expect((await waitForJob(a.jobId)).status).toBe("done");
    expect((await waitForJob(c.jobId)).status).toBe("done");
    const skipped = await waitForJob(b.jobId);
    expect(skipped.status).toBe("failed");
    expect(skipped.errors.map((e) => e.message).join("\n")).toContain(`superseded by ${c.jobId}`);
    expect(await catalog(projectId)).toEqual(await cleanIngest(treeC));
    expect(await shardFiles(projectId)).toEqual(await catalog(projectId));
  });

  it("a waiting upload whose list of kept paths is lost fails instead of emptying the project", async () => {
    const projectId = await createProject();
    const a = await upload(projectId, treeA);
    const b = await upload(projectId, treeB);
    expect(b.status).toBe("waiting");
    await env.CHUNKS.delete(`staging/${projectId}/${b.jobId}/manifest.json`);
    expect((await waitForJob(a.jobId)).status).toBe("done");
    const lost = await waitForJob(b.jobId);
    expect(lost.status).toBe("failed");
    expect(lost.errors.map((e) => e.message).join("\n")).toContain("kept paths is missing");
    expect(await catalog(projectId)).toEqual(await cleanIngest(treeA));
    // The project is free again: the next upload is applied at once.
    expect((await upload(projectId, treeC)).status).toBe("queued");
  });

  it("an upload refused as a whole hands the project on at once", async () => {
    const projectId = await createProject();
    const bad = await api(`/api/projects/${projectId}/ingest`, {
      method: "POST",
      body: new TextEncoder().encode("not a tarball"),
      headers: { "content-type": "application/gzip" },
    });
    expect(bad.status).toBe(400);
    const next = await upload(projectId, treeB);
    expect(next.status).toBe("queued");
    expect((await waitForJob(next.jobId)).status).toBe("done");
  });
});
