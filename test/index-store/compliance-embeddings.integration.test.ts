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
import type { IndexedFile } from "../../src/lib/index-store";
import { api, createProject, json, newOrg } from "../support/api";
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
});
