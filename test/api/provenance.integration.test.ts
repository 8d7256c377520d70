import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN, api, json, newOrg, waitForJob } from "../support/api";
import { type TreeFile, tarGz } from "../support/archives";

type ChunkView = {
  chunkId: string;
  path: string;
  text: string;
  superseded: boolean;
  retiredAt?: string;
  current?: { path: string; chunkIds: string[]; sha256: string } | null;
};

async function ingest(projectId: string, files: TreeFile[], token = ADMIN): Promise<void> {
  const { jobId } = await json<{ jobId: string }>(
    await api(`/api/projects/${projectId}/ingest`, { method: "POST", token, body: await tarGz(files), headers: { "content-type": "application/gzip" } }),
    202,
  );
  expect((await waitForJob(jobId, token)).status).toBe("done");
}

async function newProject(token = ADMIN): Promise<string> {
  const res = await api("/api/projects", {
    method: "POST",
    token,
    body: JSON.stringify({ name: "provenance" }),
    headers: { "content-type": "application/json" },
  });
  return (await json<{ projectId: string }>(res, 201)).projectId;
}

async function chunkIds(projectId: string, path: string): Promise<string[]> {
  const rows = await env.DB.prepare("SELECT chunk_id FROM chunks WHERE project_id = ? AND path = ? ORDER BY ordinal")
    .bind(projectId, path)
    .all<{ chunk_id: string }>();
  return rows.results.map((r) => r.chunk_id);
}

const chunk = (id: string, token = ADMIN) => api(`/api/chunks/${id}`, { token });

const first = "export function greet(name: string) {\n  return 'hello ' + name;\n}\n";
const second = "export function greet(name: string) {\n  return 'goodbye ' + name;\n}\n";
const stable = "export const answer = 42;\n";

describe("chunk provenance across re-ingestion", () => {
  it("a replaced chunk resolves as superseded, with its old text and the path's current chunks", async () => {
    const projectId = await newProject();
    await ingest(projectId, [
      { path: "src/greet.ts", content: first },
      { path: "src/answer.ts", content: stable },
    ]);
    const [oldId] = await chunkIds(projectId, "src/greet.ts");
    const [stableId] = await chunkIds(projectId, "src/answer.ts");
    expect(oldId && stableId).toBeTruthy();
    const live = await json<ChunkView>(await chunk(oldId as string), 200);
    expect(live).toMatchObject({ chunkId: oldId, superseded: false, text: first });
    expect(live.current).toBeUndefined();

    await ingest(projectId, [
      { path: "src/greet.ts", content: second },
      { path: "src/answer.ts", content: stable },
    ]);
    const nowIds = await chunkIds(projectId, "src/greet.ts");
    expect(nowIds).not.toContain(oldId);
    const old = await json<ChunkView>(await chunk(oldId as string), 200);
    expect(old).toMatchObject({ chunkId: oldId, path: "src/greet.ts", superseded: true, text: first });
    expect(Date.parse(old.retiredAt ?? "")).toBeGreaterThan(0);
    expect(old.current).toEqual({ path: "src/greet.ts", chunkIds: nowIds, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const current = await json<ChunkView>(await chunk(nowIds[0] as string), 200);
    expect(current).toMatchObject({ superseded: false, text: second });

    // The unchanged file kept its chunk id through the re-ingest: it is live, never retired.
    expect(await json<ChunkView>(await chunk(stableId as string), 200)).toMatchObject({ superseded: false, text: stable });
    const retiredStable = await env.DB.prepare("SELECT count(*) AS n FROM retired_chunks WHERE chunk_id = ?").bind(stableId).first<{ n: number }>();
    expect(retiredStable?.n).toBe(0);
  });

  it("the chunks of a changed file that did not change keep their ids and stay live", async () => {
    const res = await api("/api/projects", {
      method: "POST",
      body: JSON.stringify({ name: "chunks", tokenizer: "cl100k_base", chunkTokens: 300, overlapTokens: 128 }),
      headers: { "content-type": "application/json" },
    });
    const projectId = (await json<{ projectId: string }>(res, 201)).projectId;
    const lines = Array.from({ length: 200 }, (_, i) => `export const value${i} = ${i} * 2; // line ${i}`);
    await ingest(projectId, [{ path: "big.ts", content: `${lines.join("\n")}\n` }]);
    const before = await chunkIds(projectId, "big.ts");
    expect(before.length).toBeGreaterThan(2);
    lines[199] = "export const value199 = 'changed';";
    await ingest(projectId, [{ path: "big.ts", content: `${lines.join("\n")}\n` }]);
    const after = await chunkIds(projectId, "big.ts");
    expect(after[0]).toBe(before[0]);
    expect(after.at(-1)).not.toBe(before.at(-1));
    expect(await json<ChunkView>(await chunk(before[0] as string), 200)).toMatchObject({ superseded: false });
    const oldLast = await json<ChunkView>(await chunk(before.at(-1) as string), 200);
    expect(oldLast).toMatchObject({ superseded: true, current: { path: "big.ts", chunkIds: after } });
    expect(oldLast.text).toContain("value199 = 199 * 2");
    const retired = await env.DB.prepare("SELECT chunk_id FROM retired_chunks WHERE project_id = ?").bind(projectId).all<{ chunk_id: string }>();
    const retiredIds = retired.results.map((r) => r.chunk_id);
    expect(retiredIds).toContain(before.at(-1));
    for (const id of after) expect(retiredIds).not.toContain(id);
  });

  it("changing a file back revives its old chunk id", async () => {
    const projectId = await newProject();
    await ingest(projectId, [{ path: "a.ts", content: first }]);
    const [id] = await chunkIds(projectId, "a.ts");
    await ingest(projectId, [{ path: "a.ts", content: second }]);
    expect((await json<ChunkView>(await chunk(id as string), 200)).superseded).toBe(true);
    await ingest(projectId, [{ path: "a.ts", content: first }]);
    // Ids derive from project, path, ordinal and sha: the reverted chunk is the same chunk, live again.
    expect(await chunkIds(projectId, "a.ts")).toEqual([id]);
    expect(await json<ChunkView>(await chunk(id as string), 200)).toMatchObject({ superseded: false, text: first });
  });

  it("a chunk of a removed path is superseded with current null", async () => {
    const projectId = await newProject();
    await ingest(projectId, [
      { path: "gone.ts", content: first },
      { path: "kept.ts", content: stable },
    ]);
    const [goneId] = await chunkIds(projectId, "gone.ts");
    await ingest(projectId, [{ path: "kept.ts", content: stable }]);
    const gone = await json<ChunkView>(await chunk(goneId as string), 200);
    expect(gone).toMatchObject({ superseded: true, text: first, current: null });
  });

  it("another org's chunk id, live or retired, is answered like a missing one", async () => {
    const projectId = await newProject();
    await ingest(projectId, [{ path: "x.ts", content: first }]);
    const [retiredId] = await chunkIds(projectId, "x.ts");
    await ingest(projectId, [{ path: "x.ts", content: second }]);
    const [liveId] = await chunkIds(projectId, "x.ts");
    const other = await newOrg("other");
    const missing = await json<{ error: { code: string; message: string } }>(await chunk("chk_does_not_exist", other.apiKey), 404);
    for (const id of [retiredId, liveId]) {
      expect(await json(await chunk(id as string, other.apiKey), 404)).toEqual({ error: { ...missing.error } });
      expect((await chunk(id as string)).status).toBe(200);
    }
  });
});
