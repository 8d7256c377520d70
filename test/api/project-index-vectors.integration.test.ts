import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type IndexInput, ProjectIndex } from "../../durable-objects/project-index";
import { chooseVectorIndex, SqliteVectorIndex, VECTORIZE_MAX_TOP_K, VectorizeVectorIndex } from "../../src/lib/retrieval/vector-index";

/** The part of a Vectorize binding the index uses, recording every call. */
class FakeVectorize {
  readonly upserts: { id: string; namespace?: string | undefined }[] = [];
  readonly deleted: string[] = [];
  readonly queries: VectorizeQueryOptions[] = [];

  async upsert(vectors: VectorizeVector[]): Promise<VectorizeAsyncMutation> {
    this.upserts.push(...vectors.map((v) => ({ id: v.id, namespace: v.namespace })));
    return { mutationId: "m" };
  }

  async deleteByIds(ids: string[]): Promise<VectorizeAsyncMutation> {
    this.deleted.push(...ids);
    return { mutationId: "m" };
  }

  async query(_vector: number[], options: VectorizeQueryOptions): Promise<VectorizeMatches> {
    this.queries.push(options);
    const live = this.upserts.filter((u) => !this.deleted.includes(u.id) && u.namespace === options.namespace);
    return { count: live.length, matches: live.map((u, i) => ({ id: u.id, score: 1 - i / 100 })) };
  }
}

const input = (projectId: string, files: number): IndexInput => ({
  projectId,
  projectName: "vectors",
  changedAt: 1,
  removed: [],
  files: Array.from({ length: files }, (_, i) => ({
    path: `src/f${i}.ts`,
    sha256: `sha${i}`,
    type: "code",
    chunks: [{ chunkId: `chk_${i}`, ordinal: 0, startLine: 1, endLine: 1, text: `export const value${i} = ${i};\n` }],
    symbols: [],
    summaryId: `sum_${i}`,
    summary: `src/f${i}.ts defines value${i}`,
    head: "",
  })),
});

const userTables = (sql: SqlStorage): string[] =>
  sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )
    .toArray()
    .map((r) => r.name);

describe("ProjectIndex vector index choice", () => {
  it("chooses Vectorize only when it is bound and the project is known", async () => {
    await runInDurableObject(env.PROJECT_INDEX.getByName(crypto.randomUUID()), async (_o, state) => {
      const fake = new FakeVectorize() as unknown as VectorizeIndex;
      expect(chooseVectorIndex(fake, "prj_a", state.storage.sql)).toBeInstanceOf(VectorizeVectorIndex);
      expect(chooseVectorIndex(fake, undefined, state.storage.sql)).toBeInstanceOf(SqliteVectorIndex);
      expect(chooseVectorIndex(undefined, "prj_a", state.storage.sql)).toBeInstanceOf(SqliteVectorIndex);
    });
  });

  it("upserts a brand-new shard's first files into Vectorize, queries within its limit, and purges by chunk id", async () => {
    const projectId = `prj_${crypto.randomUUID().replaceAll("-", "")}`;
    await runInDurableObject(env.PROJECT_INDEX.getByName(projectId), async (_o, state) => {
      const fake = new FakeVectorize();
      const index = new ProjectIndex(state, { ...env, VECTORS: fake as unknown as VectorizeIndex });
      await index.indexFiles(input(projectId, 3));
      expect(fake.upserts).toEqual([0, 1, 2].map((i) => ({ id: `chk_${i}`, namespace: projectId })));
      // Nothing went to the local vectors.
      expect(userTables(state.storage.sql)).not.toContain("vectors");

      const r = await index.assemble({ prompt: "value1", budget: 8000, tokenizer: "cl100k_base", hotPaths: [], conversation: [], includeText: true });
      expect("error" in r).toBe(false);
      expect(fake.queries).toEqual([{ topK: VECTORIZE_MAX_TOP_K, namespace: projectId, returnValues: false, returnMetadata: "none" }]);

      // A purge removes the vectors by id before the storage they are listed in.
      expect(await index.purge()).toEqual({ done: false, vectorsRemoved: 3 });
      expect(fake.deleted.sort()).toEqual(["chk_0", "chk_1", "chk_2"]);
      expect(await index.purge()).toEqual({ done: true, vectorsRemoved: 0 });
      expect(userTables(state.storage.sql)).toEqual([]);
      expect(await state.storage.getAlarm()).toBeNull();
      // Purging an empty shard changes nothing and writes nothing.
      expect(await index.purge()).toEqual({ done: true, vectorsRemoved: 0 });
      expect(userTables(state.storage.sql)).toEqual([]);
    });
  });

  it("keeps the local vectors without a Vectorize binding, and purges in one call", async () => {
    const projectId = `prj_${crypto.randomUUID().replaceAll("-", "")}`;
    const stub = env.PROJECT_INDEX.getByName(projectId);
    await stub.indexFiles(input(projectId, 2));
    await runInDurableObject(stub, async (_o, state) => {
      expect(state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM vectors").one().n).toBe(2);
    });
    expect(await stub.purge()).toEqual({ done: true, vectorsRemoved: 0 });
    await runInDurableObject(stub, async (_o, state) => {
      expect(userTables(state.storage.sql)).toEqual([]);
    });
  });
});
