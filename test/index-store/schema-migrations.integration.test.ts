import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CURRENT_SCHEMA_VERSION, hasIndexSchema, migrateIndexStore, readMeta, schemaVersion, writeMeta } from "../../src/lib/index-store";

/** The shard's schema exactly as the unversioned code created it (durable-objects/project-index.ts before versioning). */
const UNVERSIONED_SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, type TEXT NOT NULL, tokens_cl INTEGER NOT NULL,
    changed_at INTEGER NOT NULL, summary_id TEXT NOT NULL, summary TEXT NOT NULL, summary_cl INTEGER NOT NULL, head TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS files_changed ON files (changed_at);
  CREATE TABLE IF NOT EXISTS chunks (rid INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id TEXT NOT NULL UNIQUE, path TEXT NOT NULL, ordinal INTEGER NOT NULL,
    start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, tokens_cl INTEGER NOT NULL, tokens_o2 INTEGER,
    block_cl INTEGER, block_o2 INTEGER, text TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS chunks_path ON chunks (path, ordinal);
  CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(body, path, tokenize = "unicode61 tokenchars '_'");
  CREATE TABLE IF NOT EXISTS symbols (path TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, line INTEGER NOT NULL, signature TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS symbols_name ON symbols (name, kind);
  CREATE INDEX IF NOT EXISTS symbols_path ON symbols (path);
  CREATE TABLE IF NOT EXISTS edges (from_path TEXT NOT NULL, to_path TEXT NOT NULL, PRIMARY KEY (from_path, to_path));
  CREATE INDEX IF NOT EXISTS edges_to ON edges (to_path);
  CREATE TABLE IF NOT EXISTS summaries (id TEXT PRIMARY KEY, level TEXT NOT NULL, path TEXT NOT NULL, content TEXT NOT NULL, tokens_cl INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS block_counts (key TEXT PRIMARY KEY, n INTEGER NOT NULL);
  CREATE VIRTUAL TABLE IF NOT EXISTS summaries_fts USING fts5(level UNINDEXED, path UNINDEXED, body, path_terms, tokenize = "unicode61 tokenchars '_'");
  CREATE TABLE IF NOT EXISTS ai_feedback (generation_id TEXT PRIMARY KEY, paths TEXT NOT NULL, approved INTEGER NOT NULL, at INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS ai_feedback_at ON ai_feedback (approved, at);
`;

/** An earlier unversioned layout: chunks without the cached-count columns, no summary search, no feedback table. */
const EARLY_SCHEMA = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE files (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, type TEXT NOT NULL, tokens_cl INTEGER NOT NULL,
    changed_at INTEGER NOT NULL, summary_id TEXT NOT NULL, summary TEXT NOT NULL, summary_cl INTEGER NOT NULL, head TEXT NOT NULL);
  CREATE TABLE chunks (rid INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id TEXT NOT NULL UNIQUE, path TEXT NOT NULL, ordinal INTEGER NOT NULL,
    start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, tokens_cl INTEGER NOT NULL, text TEXT NOT NULL);
  CREATE VIRTUAL TABLE chunks_fts USING fts5(body, path, tokenize = "unicode61 tokenchars '_'");
  CREATE TABLE symbols (path TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, line INTEGER NOT NULL, signature TEXT NOT NULL);
  CREATE TABLE edges (from_path TEXT NOT NULL, to_path TEXT NOT NULL, PRIMARY KEY (from_path, to_path));
  CREATE TABLE summaries (id TEXT PRIMARY KEY, level TEXT NOT NULL, path TEXT NOT NULL, content TEXT NOT NULL, tokens_cl INTEGER NOT NULL);
`;

function seedRows(sql: SqlStorage): void {
  sql.exec("INSERT INTO meta (key, value) VALUES ('project_id', 'prj_old'), ('project_name', 'old'), ('derived_dirty', '0')");
  sql.exec(
    "INSERT INTO files (path, sha256, type, tokens_cl, changed_at, summary_id, summary, summary_cl, head) VALUES ('src/a.ts', 'sha', 'code', 7, 1, 'sum_a', 'src/a.ts defines alpha', 5, '')",
  );
  sql.exec(
    "INSERT INTO chunks (chunk_id, path, ordinal, start_line, end_line, tokens_cl, text) VALUES ('chk_a', 'src/a.ts', 0, 1, 1, 7, 'export const alpha = 1;\n')",
  );
  sql.exec("INSERT INTO chunks_fts (rowid, body, path) VALUES (1, 'export const alpha', 'src a ts')");
  sql.exec("INSERT INTO symbols (path, name, kind, line, signature) VALUES ('src/a.ts', 'alpha', 'def', 1, 'const alpha')");
}

const columnsOf = (sql: SqlStorage, table: string): string[] =>
  sql
    .exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
    .toArray()
    .map((c) => c.name);

describe("the index shard's schema versions", () => {
  it("creates the current schema in a fresh object and records its version", async () => {
    await runInDurableObject(env.PROJECT_INDEX.getByName(crypto.randomUUID()), (_o, state) => {
      expect(hasIndexSchema(state.storage.sql)).toBe(false);
      expect(migrateIndexStore(state.storage)).toBe(0);
      expect(schemaVersion(state.storage.sql)).toBe(CURRENT_SCHEMA_VERSION);
      expect(readMeta(state.storage.sql, "schema_version")).toBe(String(CURRENT_SCHEMA_VERSION));
      // A second run finds nothing to do.
      expect(migrateIndexStore(state.storage)).toBe(CURRENT_SCHEMA_VERSION);
    });
  });

  it("recognises an object created by the unversioned code and upgrades it in place, keeping its rows", async () => {
    const stub = env.PROJECT_INDEX.getByName(crypto.randomUUID());
    await runInDurableObject(stub, (_o, state) => {
      state.storage.sql.exec(UNVERSIONED_SCHEMA);
      seedRows(state.storage.sql);
      expect(schemaVersion(state.storage.sql)).toBe(0);
    });
    // The object's first call migrates it.
    expect(await stub.stats()).toEqual({ files: 1, chunks: 1, symbols: 1, edges: 0, summaries: 0, tokensCl: 7 });
    await runInDurableObject(stub, (_o, state) => {
      const sql = state.storage.sql;
      expect(schemaVersion(sql)).toBe(CURRENT_SCHEMA_VERSION);
      expect(readMeta(sql, "project_id")).toBe("prj_old");
      expect(sql.exec("SELECT chunk_id, text FROM chunks").toArray()).toEqual([{ chunk_id: "chk_a", text: "export const alpha = 1;\n" }]);
      expect(sql.exec("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'alpha'").toArray()).toEqual([{ rowid: 1 }]);
    });
    const result = await stub.assemble({
      prompt: "where is alpha defined",
      budget: 4000,
      hotPaths: [],
      tokenizer: "cl100k_base",
      conversation: [],
      includeText: true,
    });
    expect("error" in result).toBe(false);
    if (!("error" in result)) expect(result.contextPieces.map((p) => p.chunkId)).toContain("chk_a");
  });

  it("upgrades an earlier unversioned layout: the missing count columns and tables are added, rows kept", async () => {
    await runInDurableObject(env.PROJECT_INDEX.getByName(crypto.randomUUID()), (_o, state) => {
      const sql = state.storage.sql;
      sql.exec(EARLY_SCHEMA);
      seedRows(sql);
      expect(migrateIndexStore(state.storage)).toBe(0);
      expect(columnsOf(sql, "chunks")).toEqual(expect.arrayContaining(["tokens_o2", "block_cl", "block_o2"]));
      expect(columnsOf(sql, "ai_feedback")).toEqual(["generation_id", "paths", "approved", "at"]);
      expect(columnsOf(sql, "summaries_fts").length).toBeGreaterThan(0);
      expect(sql.exec("SELECT chunk_id, tokens_cl, block_cl FROM chunks").toArray()).toEqual([{ chunk_id: "chk_a", tokens_cl: 7, block_cl: null }]);
      expect(sql.exec("SELECT path FROM files").toArray()).toEqual([{ path: "src/a.ts" }]);
    });
  });

  it("has a shard of version 4 holding Go or Python files rebuild its file graph, so that imports of a Go module's root packages link", async () => {
    const sourceFile = (path: string, text: string) => (sql: SqlStorage) => {
      sql.exec(
        "INSERT INTO files (path, sha256, type, tokens_cl, changed_at, summary_id, summary, summary_cl, head) VALUES (?, 'sha', 'code', 9, 1, ?, '', 0, '')",
        path,
        `sum_${path}`,
      );
      sql.exec("INSERT INTO chunks (chunk_id, path, ordinal, start_line, end_line, tokens_cl, text) VALUES (?, ?, 0, 1, 3, 9, ?)", `chk_${path}`, path, text);
    };
    const atVersion4 = async (seed: (sql: SqlStorage) => void) => {
      const stub = env.PROJECT_INDEX.getByName(crypto.randomUUID());
      await runInDurableObject(stub, (_o, state) => {
        migrateIndexStore(state.storage);
        const sql = state.storage.sql;
        writeMeta(sql, "schema_version", "4");
        sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('project_id', 'prj_go'), ('project_name', 'go'), ('derived_dirty', '0')");
        seed(sql);
      });
      return stub;
    };
    const goShard = await atVersion4((sql) => {
      sourceFile("clientconn.go", 'package grpc\nimport "google.golang.org/grpc/serviceconfig"\n')(sql);
      sourceFile("serviceconfig/serviceconfig.go", "package serviceconfig\ntype Config interface{}\n")(sql);
      sql.exec("INSERT INTO symbols (path, name, kind, line, signature) VALUES ('clientconn.go', 'google.golang.org/grpc/serviceconfig', 'import', 2, '')");
    });
    const tsShard = await atVersion4(sourceFile("src/a.ts", "export const alpha = 1;\n"));
    const pyShard = await atVersion4(sourceFile("pkg/io.py", "import io\n"));
    // The first call migrates: the Go and Python shards' derived data is stale (versions 5 and 6), the other's is not.
    expect((await goShard.stats()).edges).toBe(0);
    await tsShard.stats();
    await pyShard.stats();
    await runInDurableObject(goShard, (_o, state) => expect(readMeta(state.storage.sql, "derived_dirty")).toBe("1"));
    await runInDurableObject(pyShard, (_o, state) => expect(readMeta(state.storage.sql, "derived_dirty")).toBe("1"));
    await runInDurableObject(tsShard, (_o, state) => expect(readMeta(state.storage.sql, "derived_dirty")).toBe("0"));
    // Its next read rebuilds the graph with the import resolved.
    await goShard.assemble({ prompt: "service config", budget: 4000, hotPaths: [], tokenizer: "cl100k_base", conversation: [], includeText: false });
    await runInDurableObject(goShard, (_o, state) =>
      expect(state.storage.sql.exec("SELECT from_path, to_path FROM edges").toArray()).toEqual([
        { from_path: "clientconn.go", to_path: "serviceconfig/serviceconfig.go" },
      ]),
    );
  });

  it("refuses a schema newer than the code", async () => {
    await runInDurableObject(env.PROJECT_INDEX.getByName(crypto.randomUUID()), (_o, state) => {
      migrateIndexStore(state.storage);
      writeMeta(state.storage.sql, "schema_version", String(CURRENT_SCHEMA_VERSION + 1));
      expect(() => migrateIndexStore(state.storage)).toThrow(
        `index schema version ${CURRENT_SCHEMA_VERSION + 1} is newer than this code (${CURRENT_SCHEMA_VERSION})`,
      );
    });
  });
});
