/**
 * One contract per interface, run against every implementation that can run here. The production
 * implementations (Workers AI, Vectorize) run over binding-shaped local services that compute real
 * results (hashing embeddings, exact cosine search), so their own code — windowing and pooling,
 * batching, namespacing — is exercised; only the remote service itself is not.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { dot, type Embedder, HashingEmbedder, WorkersAiEmbedder } from "../../src/lib/retrieval/embedder";
import { chooseVectorIndex, SqliteVectorIndex, sqliteVectorIndex, type VectorIndex, VectorizeVectorIndex } from "../../src/lib/retrieval/vector-index";
import { localAi, localVectorize } from "../support/fake-retrieval";

const embedders: [string, () => Embedder][] = [
  ["HashingEmbedder", () => new HashingEmbedder()],
  ["WorkersAiEmbedder", () => new WorkersAiEmbedder(localAi().ai, "@cf/baai/bge-m3", 2_000)],
];

describe.each(embedders)("Embedder contract: %s", (_name, make) => {
  it("returns one unit vector of `dims` per text, deterministically", async () => {
    const e = make();
    const texts = ["parse the request headers", "export function parseHeaders(raw: string) {}", "SELECT id FROM users"];
    const [a, b] = [await e.embed(texts), await e.embed(texts)];
    expect(a).toHaveLength(3);
    for (const [i, v] of a.entries()) {
      expect(v.length).toBe(e.dims);
      expect(dot(v, v)).toBeCloseTo(1, 4);
      expect(Array.from(v)).toEqual(Array.from(b[i] as Float32Array));
    }
  });

  it("places related code nearer than unrelated code", async () => {
    const [q, near, far] = await make().embed([
      "parse http request headers",
      "function parseHttpHeaders(request) { return request.headers.split('\\n') }",
      "CREATE TABLE migrations (id INTEGER PRIMARY KEY, applied_at TEXT)",
    ]);
    expect(dot(q as Float32Array, near as Float32Array)).toBeGreaterThan(dot(q as Float32Array, far as Float32Array));
  });

  it("does not drop the end of a long text", async () => {
    const filler = "const value = compute(input);\n".repeat(400);
    const [q, withEnd, without] = await make().embed(["refreshAccessToken", `${filler}function refreshAccessToken() {}\n`, filler]);
    expect(dot(q as Float32Array, withEnd as Float32Array)).toBeGreaterThan(dot(q as Float32Array, without as Float32Array));
  });
});

it("WorkersAiEmbedder windows long texts and batches at most 100 inputs per call", async () => {
  const { ai, calls } = localAi();
  const e = new WorkersAiEmbedder(ai, "@cf/baai/bge-m3", 1_000);
  await e.embed(Array.from({ length: 60 }, (_, i) => `chunk ${i} `.repeat(300)));
  expect(calls.flat().length).toBeGreaterThan(60);
  for (const c of calls) expect(c.length).toBeLessThanOrEqual(100);
  for (const t of calls.flat()) expect(t.length).toBeLessThanOrEqual(1_000);
});

/** A SqliteVectorIndex in its own Durable Object per namespace; each call runs inside that object. */
function sqliteIndexIn(name: string): VectorIndex {
  const stub = env.PROJECT_INDEX.getByName(name);
  const inside = <T>(fn: (index: VectorIndex) => Promise<T>): Promise<T> =>
    runInDurableObject(stub, (_instance, state) => fn(new SqliteVectorIndex(state.storage.sql)));
  return {
    upsert: (items) => inside((i) => i.upsert(items)),
    remove: (ids) => inside((i) => i.remove(ids)),
    query: (vector, topK) => inside((i) => i.query(vector, topK)),
  };
}

const indexes: [string, () => (ns: string) => VectorIndex][] = [
  [
    "SqliteVectorIndex",
    () => {
      const run = crypto.randomUUID();
      return (ns) => sqliteIndexIn(`contract-${run}-${ns}`);
    },
  ],
  [
    "VectorizeVectorIndex",
    () => {
      const shared = localVectorize();
      return (ns) => new VectorizeVectorIndex(shared, ns);
    },
  ],
];

describe.each(indexes)("VectorIndex contract: %s", (_name, factory) => {
  it("finds by similarity, replaces on upsert, forgets on remove, and keeps projects apart", async () => {
    const make = factory();
    {
      const e = new HashingEmbedder(1024);
      const [auth, db, ui, q] = await e.embed(["login password session token", "sql table migration index", "button color layout css", "session login"]);
      const a = make("project-a");
      const b = make("project-b");
      await a.upsert([
        { id: "auth", path: "auth.ts", vector: auth as Float32Array },
        { id: "db", path: "db.ts", vector: db as Float32Array },
      ]);
      await b.upsert([{ id: "ui", path: "ui.ts", vector: ui as Float32Array }]);
      const hits = await a.query(q as Float32Array, 10);
      expect(hits.map((h) => h.id)).toEqual(["auth", "db"]);
      expect((hits[0] as { score: number }).score).toBeGreaterThan((hits[1] as { score: number }).score);
      expect((await b.query(q as Float32Array, 10)).map((h) => h.id)).toEqual(["ui"]);
      await a.upsert([{ id: "db", path: "db.ts", vector: q as Float32Array }]);
      expect((await a.query(q as Float32Array, 1))[0]?.id).toBe("db");
      await a.remove(["db"]);
      expect((await a.query(q as Float32Array, 10)).map((h) => h.id)).toEqual(["auth"]);
    }
  });
});

describe("the shard's own vector index", () => {
  it("is one instance per storage: a vector removed by one caller is gone from another's next query", async () => {
    const stub = env.PROJECT_INDEX.getByName(`shared-index-${crypto.randomUUID()}`);
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      const e = new HashingEmbedder();
      const [a, b] = await e.embed(["parse the request header", "render the invoice total"]);
      const reader = sqliteVectorIndex(sql);
      await reader.upsert([
        { id: "a", vector: a as Float32Array, path: "a.ts" },
        { id: "b", vector: b as Float32Array, path: "b.ts" },
      ]);
      expect((await reader.query(a as Float32Array, 2)).map((h) => h.id)).toEqual(["a", "b"]);
      // Another caller of the same storage (a purge, a re-embedding) removes one.
      await chooseVectorIndex(undefined, "prj_x", sql).remove(["a"]);
      expect((await reader.query(a as Float32Array, 2)).map((h) => h.id)).toEqual(["b"]);
      expect(chooseVectorIndex(undefined, "prj_x", sql)).toBe(reader);
    });
  });
});
