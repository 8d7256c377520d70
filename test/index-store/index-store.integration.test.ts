import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RetrievalStore } from "../../src/lib/assembly/types";
import {
  createRetrievalStore,
  directoryTree,
  dropFile,
  ftsAnyOf,
  heldRangesOf,
  type IndexedFile,
  indexBatch,
  migrateIndexStore,
  PathCache,
  readMeta,
  rebuildDerived,
  recordFeedback,
  shardStats,
  TermCountsCache,
} from "../../src/lib/index-store";
import { HashingEmbedder } from "../../src/lib/retrieval/embedder";
import { SqliteVectorIndex } from "../../src/lib/retrieval/vector-index";
import { fillShard } from "../support/shard";

const file = (path: string, text: string, symbols: IndexedFile["symbols"] = []): IndexedFile => ({
  path,
  sha256: `sha-${path}`,
  type: "code",
  chunks: [{ chunkId: `chk:${path}`, ordinal: 0, startLine: 1, endLine: text.split("\n").length - 1, text }],
  symbols,
  summaryId: `sum:${path}`,
  summary: `${path} summary`,
  head: "",
});

const FILES = [
  file("src/app.ts", 'import { parseConfig } from "./config";\nexport const app = parseConfig();\n', [
    { name: "./config", kind: "import", line: 1, signature: "" },
    { name: "app", kind: "def", line: 2, signature: "const app" },
  ]),
  file("src/config.ts", "export function parseConfig() {\n  return {};\n}\n", [
    { name: "parseConfig", kind: "def", line: 1, signature: "function parseConfig()" },
  ]),
  file("README.md", "# Demo\nA demo project.\n"),
];

/** A migrated shard's SQLite in a fresh object, with the modules wired as the object wires them. */
type ShardDeps = { paths: PathCache; termCounts: TermCountsCache; vectors: SqliteVectorIndex; embedder: HashingEmbedder };

async function withShard(fn: (sql: SqlStorage, deps: ShardDeps) => Promise<void>) {
  await runInDurableObject(env.PROJECT_INDEX.getByName(crypto.randomUUID()), async (_o, state) => {
    migrateIndexStore(state.storage);
    const sql = state.storage.sql;
    await fn(sql, { paths: new PathCache(sql), termCounts: new TermCountsCache(sql), vectors: new SqliteVectorIndex(sql), embedder: new HashingEmbedder() });
  });
}

/** The retrieval store over the shard's SQL (or a wrapper of it), wired to the shard's modules. */
function storeOf(sql: SqlStorage, deps: ShardDeps): RetrievalStore {
  return createRetrievalStore(sql, {
    paths: () => deps.paths.get(),
    fileTokens: () => deps.paths.tokens(),
    termCounts: deps.termCounts,
    embedder: deps.embedder,
    vectors: () => deps.vectors,
  });
}

/** The shard's SQL with every query it is asked written to `reads`. */
function countingSql(sql: SqlStorage, reads: string[]): SqlStorage {
  const exec = (query: string, ...bindings: unknown[]) => {
    reads.push(query);
    return sql.exec(query, ...bindings);
  };
  return { exec } as unknown as SqlStorage;
}

describe("the index store's write path", () => {
  it("indexes a batch, replaces a file on re-index and drops removed paths with their chunk ids", async () => {
    await withShard(async (sql, deps) => {
      const w = { vectors: () => deps.vectors, embedder: deps.embedder };
      expect(await indexBatch(sql, { projectId: "prj_w", projectName: "w", files: FILES, removed: [], changedAt: 5 }, w)).toEqual({
        files: 3,
        chunks: 3,
        removed: 0,
      });
      expect(readMeta(sql, "derived_dirty")).toBe("1");
      expect(shardStats(sql)).toMatchObject({ files: 3, chunks: 3, symbols: 3 });
      // Re-indexing the same file replaces its rows instead of adding to them.
      await indexBatch(sql, { projectId: "prj_w", projectName: "w", files: [FILES[1] as IndexedFile], removed: ["README.md"], changedAt: 6 }, w);
      expect(shardStats(sql)).toMatchObject({ files: 2, chunks: 2, symbols: 3 });
      expect(dropFile(sql, "src/app.ts")).toEqual(["chk:src/app.ts"]);
      expect(dropFile(sql, "src/app.ts")).toEqual([]);
      expect(sql.exec("SELECT count(*) AS n FROM summaries_fts WHERE level = 'file'").one().n).toBe(1);
    });
  });
});

describe("the index store's derived data", () => {
  it("groups files by directory with every ancestor listed", () => {
    const { byDir, subdirs } = directoryTree([{ path: "a/b/c.ts" }, { path: "a/d.ts" }, { path: "e.ts" }]);
    expect([...byDir.keys()].sort()).toEqual(["", "a", "a/b"]);
    expect(byDir.get("a")).toEqual([{ path: "a/d.ts" }]);
    expect([...(subdirs.get("") ?? [])]).toEqual(["a"]);
    expect([...(subdirs.get("a") ?? [])]).toEqual(["b"]);
  });

  it("rebuilds directory and project summaries and the import graph, and clears the stale mark", async () => {
    await withShard(async (sql, deps) => {
      await indexBatch(
        sql,
        { projectId: "prj_d", projectName: "demo", files: FILES, removed: [], changedAt: 1 },
        { vectors: () => deps.vectors, embedder: deps.embedder },
      );
      const { projectId, rows } = await rebuildDerived(sql, () => deps.paths.get());
      expect(projectId).toBe("prj_d");
      expect(rows.map((r) => [r.level, r.path])).toEqual([
        ["directory", ""],
        ["directory", "src"],
        ["project", ""],
      ]);
      expect(sql.exec("SELECT from_path, to_path FROM edges").toArray()).toEqual([{ from_path: "src/app.ts", to_path: "src/config.ts" }]);
      expect(readMeta(sql, "derived_dirty")).toBe("0");
    });
  });
});

describe("the retrieval store over the shard", () => {
  it("quotes every FTS term and groups held block keys by chunk", () => {
    expect(ftsAnyOf(["a", 'b"c'])).toBe('"a" OR "b""c"');
    expect(heldRangesOf(["chk:x:1-4", "chk:x:5-9", "nocolon", ":1-2"])).toEqual(new Map([["chk:x", new Set(["1-4", "5-9"])]]));
    expect(heldRangesOf(undefined)).toEqual(new Map());
  });

  it("keeps term counts between reads until told the chunks changed, reading only terms it has not seen", async () => {
    await withShard(async (sql, deps) => {
      const w = { vectors: () => deps.vectors, embedder: deps.embedder };
      await indexBatch(sql, { projectId: "prj_t", projectName: "t", files: FILES, removed: [], changedAt: 1 }, w);
      const vocab = (terms: string[]) =>
        new Map(
          sql
            .exec<{ term: string; doc: number }>("SELECT term, doc FROM chunks_vocab WHERE term IN (SELECT value FROM json_each(?))", JSON.stringify(terms))
            .toArray()
            .map((r) => [r.term, r.doc]),
        );
      const reads: string[] = [];
      const counted = countingSql(sql, reads);
      const cache = new TermCountsCache(counted);
      const terms = ["return", "parseconfig", "demo", "zebraword"];
      expect(cache.get(terms)).toEqual({ chunks: 3, df: vocab(terms) });
      expect(cache.get(terms).df.has("zebraword")).toBe(false);
      expect(reads).toHaveLength(2);
      // Known terms, absent ones included, are not read again; a new one is read alone.
      expect(cache.get(["return", "zebraword"]).df).toEqual(vocab(["return"]));
      expect(reads).toHaveLength(2);
      cache.get(["return", "project"]);
      expect(reads).toHaveLength(3);
      // A write the cache is not told of is not seen; after invalidate it is.
      await indexBatch(
        sql,
        { projectId: "prj_t", projectName: "t", files: [file("src/zebra.ts", "export const zebraword = 1;\n")], removed: [], changedAt: 2 },
        w,
      );
      expect(cache.get(["zebraword"])).toEqual({ chunks: 3, df: new Map() });
      cache.invalidate();
      expect(cache.get(["zebraword"])).toEqual({ chunks: 4, df: new Map([["zebraword", 1]]) });
      // Past its bound the cache starts over rather than grow.
      const small = new TermCountsCache(sql, 3);
      expect(small.get(["return", "demo", "parseconfig", "zebraword"]).df).toEqual(vocab(["return", "demo", "parseconfig", "zebraword"]));
      expect(small.get(["zebraword"]).df).toEqual(new Map([["zebraword", 1]]));
    });
  });

  it("the shard's searches see a term its next batch adds", async () => {
    const projectId = `prj_${crypto.randomUUID()}`;
    await fillShard(projectId, [{ path: "src/a.ts", text: "export function alpha() {\n  return 1;\n}\n" }]);
    const shard = env.PROJECT_INDEX.getByName(projectId);
    const lexical = async () => (await shard.search("zebraword", 10)).filter((h) => h.reasons.includes("lexical match")).map((h) => h.path);
    expect(await lexical()).toEqual([]);
    await fillShard(projectId, [{ path: "src/zebra.ts", text: "export const zebraword = 2;\n" }], "claude", 2);
    expect(await lexical()).toEqual(["src/zebra.ts"]);
  });

  it("the shard's assembly sizes a file by its last batch: a file grown past whole-file size comes as an excerpt", async () => {
    const projectId = `prj_${crypto.randomUUID()}`;
    const shard = env.PROJECT_INDEX.getByName(projectId);
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `export const zebraword${i} = "zebraword ${i}";\n`).join("");
    const assemble = async () => {
      const res = await shard.assemble({ prompt: "zebraword", budget: 20_000, tokenizer: "cl100k_base", hotPaths: [], conversation: [], includeText: false });
      if ("error" in res) throw new Error(res.error.message);
      return res.contextPieces.filter((p) => p.sourcePath === "src/zebra.ts").map((p) => [p.startLine, p.endLine]);
    };
    await fillShard(projectId, [{ path: "src/zebra.ts", text: lines(20) }], "cl100k_base");
    expect(await assemble()).toEqual([[1, 20]]);
    // Past 2,000 tokens the file's first piece is its best chunk cut to about 600 tokens.
    await fillShard(projectId, [{ path: "src/zebra.ts", text: lines(400) }], "cl100k_base", 2);
    const [first] = await assemble();
    expect((first?.[1] ?? 0) - (first?.[0] ?? 0)).toBeLessThan(100);
  });

  it("reads a chunk's metadata once per assembly: what a search or a path lookup returned is not read again", async () => {
    await withShard(async (sql, deps) => {
      await indexBatch(
        sql,
        { projectId: "prj_m", projectName: "m", files: FILES, removed: [], changedAt: 1 },
        { vectors: () => deps.vectors, embedder: deps.embedder },
      );
      const reads: string[] = [];
      const counted = countingSql(sql, reads);
      const store = storeOf(counted, deps);
      expect(store.lexical(["return"], 10).map((h) => h.chunkId)).toEqual(["chk:src/config.ts"]);
      store.chunksOfPaths(["README.md"]);
      const before = reads.length;
      expect(store.chunkMeta(["chk:README.md", "chk:src/config.ts"])).toEqual([
        { chunkId: "chk:README.md", path: "README.md", ordinal: 0, startLine: 1, endLine: 2 },
        { chunkId: "chk:src/config.ts", path: "src/config.ts", ordinal: 0, startLine: 1, endLine: 3 },
      ]);
      expect(reads.length).toBe(before);
      // An id it has not seen is read; one no chunk has is left out.
      expect(store.chunkMeta(["chk:src/app.ts", "chk:gone"]).map((m) => m.path)).toEqual(["src/app.ts"]);
      expect(reads.length).toBe(before + 1);
    });
  });

  it("keeps a search's best chunks (and files by summary) up to its limit, ties at the limit by path, whatever order the files came in", async () => {
    // Four copies score alike; the one naming the term twice scores best. Indexed in reverse path order, so
    // the order rows were written in is not the order the answer keeps.
    const copies = ["dup/d.ts", "dup/c.ts", "dup/b.ts", "dup/a.ts"].map((p) => ({ ...file(p, "export const widget = 1;\n"), summary: "widget" }));
    const files = [
      ...copies,
      { ...file("best.ts", "export const widget = widget2(widget);\n"), summary: "widget widget" },
      file("other.ts", "export const gadget = 1;\n"),
    ];
    await withShard(async (sql, deps) => {
      await indexBatch(
        sql,
        { projectId: "prj_t", projectName: "t", files, removed: [], changedAt: 1 },
        { vectors: () => deps.vectors, embedder: deps.embedder },
      );
      const store = storeOf(sql, deps);
      const hits = (limit: number) => store.lexical(["widget"], limit).map((h) => h.chunkId);
      expect(hits(10)).toEqual(["chk:best.ts", "chk:dup/a.ts", "chk:dup/b.ts", "chk:dup/c.ts", "chk:dup/d.ts"]);
      expect(hits(3)).toEqual(["chk:best.ts", "chk:dup/a.ts", "chk:dup/b.ts"]);
      expect(hits(1)).toEqual(["chk:best.ts"]);
      const [best, tied] = store.lexical(["widget"], 2);
      expect(best?.score).toBeGreaterThan(tied?.score ?? Number.POSITIVE_INFINITY);
      // The same for files whose summaries match.
      const summaries = (limit: number) => store.summaryMatches(["widget"], limit).map((m) => m.path);
      expect(summaries(10)).toEqual(["best.ts", "dup/a.ts", "dup/b.ts", "dup/c.ts", "dup/d.ts"]);
      expect(summaries(3)).toEqual(["best.ts", "dup/a.ts", "dup/b.ts"]);
    });
  });

  it("ranks linked files by how strongly the best files link to them, a link to a better file weighing more", async () => {
    await withShard(async (sql, deps) => {
      // a.ts is the best file, b.ts the second: x is linked from both, y from a, w links to a, z to b.
      for (const [from, to] of [
        ["a.ts", "x.ts"],
        ["b.ts", "x.ts"],
        ["a.ts", "y.ts"],
        ["w.ts", "a.ts"],
        ["z.ts", "b.ts"],
      ])
        sql.exec("INSERT INTO edges (from_path, to_path) VALUES (?, ?)", from, to);
      const store = storeOf(sql, deps);
      expect(store.neighbors(["a.ts", "b.ts"], 40)).toEqual(["x.ts", "w.ts", "y.ts", "z.ts"]);
      expect(store.neighbors(["b.ts", "a.ts"], 40)).toEqual(["x.ts", "z.ts", "w.ts", "y.ts"]);
      expect(store.neighbors(["a.ts", "b.ts"], 2)).toEqual(["x.ts", "w.ts"]);
      expect(store.neighbors([], 40)).toEqual([]);
      // What each file links to, in path order: not what links to it.
      expect(store.linksFrom(["a.ts", "z.ts"])).toEqual([
        { from: "z.ts", to: "b.ts" },
        { from: "a.ts", to: "x.ts" },
        { from: "a.ts", to: "y.ts" },
      ]);
      expect(store.linksFrom([])).toEqual([]);
    });
  });

  it("answers the assembler's reads: search, chunk order, feedback, and textless loads of held chunks", async () => {
    await withShard(async (sql, deps) => {
      await indexBatch(
        sql,
        {
          projectId: "prj_r",
          projectName: "r",
          files: [...FILES, file(".cargo/config.toml", "[build]\nrustflags = []\n"), file("lib/.cargo/config.toml", "[build]\n")],
          removed: [],
          changedAt: 1,
        },
        { vectors: () => deps.vectors, embedder: deps.embedder },
      );
      await rebuildDerived(sql, () => deps.paths.get());
      const store = storeOf(sql, deps);
      expect(store.lexical(["return"], 10).map((h) => h.chunkId)).toEqual(["chk:src/config.ts"]);
      expect(store.definitions(["parseConfig"])).toEqual([{ path: "src/config.ts", line: 1 }]);
      expect(store.neighbors(["src/app.ts"], 40)).toEqual(["src/config.ts"]);
      expect(store.chunksOfPaths(["src/config.ts", "README.md"]).map((c) => c.chunkId)).toEqual(["chk:src/config.ts", "chk:README.md"]);
      expect(store.existingPaths(["README.md", "gone.ts"])).toEqual(new Set(["README.md"]));
      // Files directly in a directory, "" being the root: not those of its subdirectories.
      expect(store.filesIn(["src"])).toEqual(["src/app.ts", "src/config.ts"]);
      expect(store.filesIn([""])).toEqual(["README.md"]);
      expect(store.filesIn(["lib", "sr"])).toEqual([]);
      // The root's files and those under its dot-directories, not a dot-directory deeper down.
      expect(store.filesAtTop()).toEqual([".cargo/config.toml", "README.md"]);
      // Files by their name, wherever they are: the whole last part of the path.
      expect(store.filesNamed(["config.ts", "README.md"])).toEqual(["README.md", "src/config.ts"]);
      expect(store.filesNamed(["config", "src"])).toEqual([]);
      recordFeedback(sql, "gen_1", ["src/app.ts", "gone.ts"], true, 10);
      recordFeedback(sql, "gen_2", ["README.md"], false, 11);
      expect(store.approvedPaths(20)).toEqual(["src/app.ts"]);

      const [first] = store.loadChunks(["chk:src/config.ts"], "cl100k_base");
      expect(first).toMatchObject({ text: "export function parseConfig() {\n  return {};\n}\n", startLine: 1, endLine: 3 });
      expect(first?.block).toBeGreaterThan(first?.tokens ?? 0);
      // Counts are now cached, so a caller holding the whole block gets it without its text.
      const held = store.loadChunks(["chk:src/config.ts"], "cl100k_base", ["chk:src/config.ts:1-3"]);
      expect(held[0]).toMatchObject({ text: "", textless: true, tokens: first?.tokens, block: first?.block });
      // Holding only part of the chunk does not stand for its text.
      expect(store.loadChunks(["chk:src/config.ts"], "cl100k_base", ["chk:src/config.ts:1-2"])[0]?.textless).toBeUndefined();
      expect(store.projectSummary("cl100k_base")?.kind).toBe("project-summary");
      expect(store.totalTokens("cl100k_base")).toBe(shardStats(sql).tokensCl);
    });
  });
});
