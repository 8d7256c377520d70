/**
 * Compliance mode keeps a project's embeddings embedded: with Workers AI bound (a stand-in that records
 * every call), the shard of an org in compliance mode embeds nothing through it at ingest or at query, and
 * an org that switches has its vectors re-embedded by the shard's alarm into the index that suits the new
 * embedder, the old index emptied. The shard is the real object; only its AI and Vectorize bindings are
 * the stand-ins (`shardEmbeddings`, as the object builds it), its D1 the real local one.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type ProjectIndex, shardEmbeddings } from "../../durable-objects/project-index";
import type { IndexedFile, ShardEmbeddings } from "../../src/lib/index-store";
import { api, createProject, json, newOrg, waitForJob } from "../support/api";
import { tarGz } from "../support/archives";
import { localAi, localVectorize } from "../support/fake-retrieval";

type Org = { orgId: string; apiKey: string };

const file = (path: string, text: string): IndexedFile => ({
  path,
  sha256: `sha-${path}`,
  type: "code",
  chunks: [{ chunkId: `chk_${path.replace(/\W/g, "_")}`, ordinal: 0, startLine: 1, endLine: text.split("\n").length - 1, text }],
  symbols: [],
  summaryId: `sum:${path}`,
  summary: `${path} summary`,
  head: "",
});
const FILES = [
  file("src/config.ts", "export function parseConfig(raw: string) {\n  return JSON.parse(raw);\n}\n"),
  file("src/server.ts", "export function startServer(port: number) {\n  return listen(port);\n}\n"),
  file("README.md", "# Demo\nParses its config, then starts a server.\n"),
];
const QUERY = "where is the config parsed?";

async function setCompliance(org: Org, on: boolean): Promise<void> {
  await json(
    await api(`/api/orgs/${org.orgId}/settings`, {
      method: "PATCH",
      token: org.apiKey,
      body: JSON.stringify({ complianceMode: on }),
      headers: { "content-type": "application/json" },
    }),
    200,
  );
}

/** The project's real shard with Workers AI and Vectorize stand-ins bound, and what they hold. */
async function withShard(projectId: string, fn: (shard: ProjectIndex, probe: Probe) => Promise<void>): Promise<void> {
  const { ai, calls } = localAi();
  const vectorize = localVectorize();
  await runInDurableObject(env.PROJECT_INDEX.getByName(projectId), async (shard: ProjectIndex, state) => {
    const sql = state.storage.sql;
    (shard as unknown as { embeddings: unknown }).embeddings = shardEmbeddings(sql, { DB: env.DB, AI: ai, VECTORS: vectorize });
    const probe: Probe = {
      aiCalls: () => calls.length,
      aiTexts: () => calls.flat(),
      inVectorize: async () => (await vectorize.query(new Array(1024).fill(0.01), { topK: 100, namespace: projectId })).matches.length,
      inSqlite: () =>
        sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'vectors'").toArray().length === 0
          ? 0
          : sql.exec<{ n: number }>("SELECT count(*) AS n FROM vectors").one().n,
      // The alarm carries a re-embedding on one batch at a time; each run is one batch here.
      runAlarms: async () => {
        for (let i = 0; i < 10 && (await state.storage.getAlarm()) !== null; i++) {
          await state.storage.deleteAlarm();
          await shard.alarm();
        }
      },
    };
    await fn(shard, probe);
  });
}
type Probe = {
  aiCalls: () => number;
  aiTexts: () => string[];
  inVectorize: () => Promise<number>;
  inSqlite: () => number;
  runAlarms: () => Promise<void>;
};

/**
 * The project's shard with the stand-ins bound, then an archive ingested through the API (queue, consumer,
 * shard) and a context assembled through the API: the calls Workers AI received on the way.
 */
async function ingestAndAssembleThroughTheApi(org: Org): Promise<{ calls: string[][]; sqliteVectors: number }> {
  const projectId = await createProject(org.apiKey);
  const { ai, calls } = localAi();
  const vectorize = localVectorize();
  const shard = env.PROJECT_INDEX.getByName(projectId);
  await runInDurableObject(shard, async (instance: ProjectIndex, state) => {
    (instance as unknown as { embeddings: unknown }).embeddings = shardEmbeddings(state.storage.sql, { DB: env.DB, AI: ai, VECTORS: vectorize });
  });
  const tree = FILES.map((f) => ({ path: f.path, content: f.chunks[0]?.text ?? "" }));
  const { jobId } = await json<{ jobId: string }>(
    await api(`/api/projects/${projectId}/ingest`, {
      method: "POST",
      token: org.apiKey,
      body: await tarGz(tree),
      headers: { "content-type": "application/gzip" },
    }),
    202,
  );
  expect((await waitForJob(jobId, org.apiKey)).status).toBe("done");
  const assembled = await json<{ contextPieces: unknown[] }>(
    await api("/api/context/assemble", {
      method: "POST",
      token: org.apiKey,
      body: JSON.stringify({ projectId, prompt: QUERY, budget: 8000 }),
      headers: { "content-type": "application/json" },
    }),
    200,
  );
  expect(assembled.contextPieces.length).toBeGreaterThan(0);
  const sqliteVectors = await runInDurableObject(shard, async (_i: ProjectIndex, state) =>
    state.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'vectors'").toArray().length === 0
      ? 0
      : state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM vectors").one().n,
  );
  return { calls, sqliteVectors };
}

const ingest = (shard: ProjectIndex, projectId: string) => shard.indexFiles({ projectId, projectName: "p", files: FILES, removed: [], changedAt: 1 });

describe("embeddings under compliance mode", () => {
  it("a compliance-mode org's shard sends nothing to Workers AI, at ingest or at query, and still finds by vector", async () => {
    const org = await newOrg("embed-compliance");
    const projectId = await createProject(org.apiKey);
    await setCompliance(org, true);
    await withShard(projectId, async (shard, probe) => {
      await ingest(shard, projectId);
      const hits = await shard.search(QUERY, 5);
      expect(hits.map((h) => h.path)).toContain("src/config.ts");
      // The embedded embedder's vectors, in the shard's own SQLite; none in Vectorize.
      expect(probe.inSqlite()).toBe(FILES.length);
      expect(await probe.inVectorize()).toBe(0);
      expect(probe.aiCalls()).toBe(0);
    });
  });

  it("an org not in compliance mode embeds through Workers AI at ingest and at query (the contrast)", async () => {
    const org = await newOrg("embed-external");
    const projectId = await createProject(org.apiKey);
    await withShard(projectId, async (shard, probe) => {
      await ingest(shard, projectId);
      expect(probe.aiCalls()).toBe(1);
      await shard.search(QUERY, 5);
      expect(probe.aiTexts().at(-1)).toBe(QUERY);
      expect(await probe.inVectorize()).toBe(FILES.length);
      expect(probe.inSqlite()).toBe(0);
    });
  });

  it("through the API (upload, queue, shard; then assembly), a compliance-mode org's project reaches no Workers AI; another org's does", async () => {
    const compliant = await newOrg("embed-e2e-compliance");
    await setCompliance(compliant, true);
    const inCompliance = await ingestAndAssembleThroughTheApi(compliant);
    expect(inCompliance.calls).toEqual([]);
    expect(inCompliance.sqliteVectors).toBeGreaterThan(0);
    // The contrast shows the stand-in was the one the queue consumer's and the assembly's calls reached.
    const external = await ingestAndAssembleThroughTheApi(await newOrg("embed-e2e-external"));
    expect(external.calls.flat()).toContain(QUERY);
    expect(external.calls.flat().some((t) => t.startsWith("src/config.ts\n"))).toBe(true);
    expect(external.sqliteVectors).toBe(0);
  });

  it("switching an existing project re-embeds its vectors with the new embedder, emptying the old index, both ways", async () => {
    const org = await newOrg("embed-switch");
    const projectId = await createProject(org.apiKey);
    await withShard(projectId, async (shard, probe) => {
      await ingest(shard, projectId);
      await probe.runAlarms();
      expect(await probe.inVectorize()).toBe(FILES.length);
      const before = probe.aiCalls();

      await setCompliance(org, true);
      await shard.search(QUERY, 5);
      await probe.runAlarms();
      // Moved to the embedded embedder: nothing more went to Workers AI, Vectorize holds none of the project's vectors.
      expect(probe.aiCalls()).toBe(before);
      expect(probe.inSqlite()).toBe(FILES.length);
      expect(await probe.inVectorize()).toBe(0);
      expect((await shard.search(QUERY, 5)).map((h) => h.path)).toContain("src/config.ts");
      expect(probe.aiCalls()).toBe(before);

      await setCompliance(org, false);
      await shard.search(QUERY, 5);
      await probe.runAlarms();
      // Back: every chunk embedded again by Workers AI into Vectorize, the SQLite vectors gone.
      expect(probe.aiTexts().filter((t) => FILES.some((f) => t.startsWith(`${f.path}\n`)))).toHaveLength(2 * FILES.length);
      expect(await probe.inVectorize()).toBe(FILES.length);
      expect(probe.inSqlite()).toBe(0);
    });
  });

  it("a switch back before the re-embedding ended empties what it had written and re-embeds all with the first embedder", async () => {
    const org = await newOrg("embed-flip");
    const projectId = await createProject(org.apiKey);
    await withShard(projectId, async (shard, probe) => {
      const embeddings = (shard as unknown as { embeddings: ShardEmbeddings }).embeddings;
      await ingest(shard, projectId);
      await probe.runAlarms();
      await setCompliance(org, true);
      await embeddings.resolve();
      // One chunk of three moved to the embedded embedder when the org switches back.
      expect(await embeddings.reembedBatch(1)).toEqual({ done: false, reembedded: 1 });
      expect([probe.inSqlite(), await probe.inVectorize()]).toEqual([1, FILES.length - 1]);
      await setCompliance(org, false);
      expect((await embeddings.resolve()).reembedding).toBe(true);
      while (!(await embeddings.reembedBatch(1)).done);
      expect([probe.inSqlite(), await probe.inVectorize()]).toEqual([0, FILES.length]);
      expect((await embeddings.resolve()).reembedding).toBe(false);
    });
  });
});
