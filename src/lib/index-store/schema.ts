/**
 * The shard's SQLite schema, versioned: a `schema_version` row in `meta` and an ordered list of
 * migrations run by the Durable Objects' one migration runner (storage/do-migrations.ts).
 */

import { columnExists, type MigratableStorage, type Migration, migrate, type VersionRecord } from "../storage/do-migrations";

/** The bootstrap table: it holds the version row, so it exists before any migration runs. */
const META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)";
const VERSION_KEY = "schema_version";

/**
 * Version 1, the layout the shard had before it was versioned. Its statements keep `IF NOT EXISTS`
 * on purpose: an object created by the unversioned code has these tables (or an earlier subset of
 * them) and no version row, and version 1 adopts it in place, keeping its rows. Later migrations are
 * plain, ordered steps from a known version.
 */
function baseline(sql: SqlStorage): void {
  sql.exec(`
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
  `);
  // The cached counts were added to `chunks` before versioning, without an ALTER: an older object lacks them.
  for (const c of ["tokens_o2", "block_cl", "block_o2"]) if (!columnExists(sql, "chunks", c)) sql.exec(`ALTER TABLE chunks ADD COLUMN ${c} INTEGER`);
}

/** Marks the derived data (summaries, file graph) stale when the shard holds a file of one of the extensions. */
function markDerivedStaleIfHolding(sql: SqlStorage, extensions: string[]): void {
  const held = sql.exec(`SELECT 1 FROM files WHERE ${extensions.map(() => "path LIKE ?").join(" OR ")} LIMIT 1`, ...extensions.map((e) => `%${e}`));
  if (held.toArray().length > 0) writeMeta(sql, "derived_dirty", "1");
}

/** Append only; never edit a shipped one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: "the layout before versioning, adopted in place", up: baseline },
  {
    version: 2,
    description: "chunks_vocab: each indexed term's chunk count, read to weigh a prompt's terms",
    up: (sql) => sql.exec("CREATE VIRTUAL TABLE chunks_vocab USING fts5vocab(chunks_fts, row)"),
  },
  {
    version: 3,
    description:
      "model-written summaries: a cache by level and content hash, each file's state, each directory's current one; their terms in a column of summaries_fts of their own",
    up: (sql) =>
      sql.exec(`
        CREATE TABLE model_summaries (level TEXT NOT NULL, sha256 TEXT NOT NULL, content TEXT NOT NULL, model TEXT NOT NULL,
          tokens_cl INTEGER NOT NULL, cost_micro_usd INTEGER NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (level, sha256));
        CREATE TABLE summary_status (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL, at INTEGER NOT NULL);
        CREATE TABLE dir_model_summaries (path TEXT PRIMARY KEY, input_sha TEXT NOT NULL);
        CREATE VIRTUAL TABLE summaries_fts_v3 USING fts5(level UNINDEXED, path UNINDEXED, body, path_terms, model_body, tokenize = "unicode61 tokenchars '_'");
        INSERT INTO summaries_fts_v3 (level, path, body, path_terms, model_body) SELECT level, path, body, path_terms, '' FROM summaries_fts;
        DROP TABLE summaries_fts;
        ALTER TABLE summaries_fts_v3 RENAME TO summaries_fts;
      `),
  },
  {
    version: 4,
    description: "each chunk's line segment counts per base encoding, kept once an excerpt has counted them (assembly/pieces.ts lineSegments)",
    up: (sql) => sql.exec("ALTER TABLE chunks ADD COLUMN segs_cl BLOB; ALTER TABLE chunks ADD COLUMN segs_o2 BLOB;"),
  },
  {
    version: 5,
    description: "Go imports of a module's own packages resolve (index-store/path-lookup.ts): a shard with Go files rebuilds its file graph on its next read",
    up: (sql) => markDerivedStaleIfHolding(sql, [".go"]),
  },
  {
    version: 6,
    description:
      "Python's absolute imports link only a top-level package's files, Rust's standard library none, a Rust `mod` its own file (retrieval/symbols.ts importTargets): a shard with Python or Rust files rebuilds its file graph on its next read",
    up: (sql) => markDerivedStaleIfHolding(sql, [".py", ".pyi", ".rs"]),
  },
];

export const CURRENT_SCHEMA_VERSION = MIGRATIONS.length;

// The shard keeps its version as a row of its `meta` table.
const META_VERSION: VersionRecord = {
  name: "index schema",
  read(sql) {
    sql.exec(META);
    const v = readMeta(sql, VERSION_KEY);
    return v === undefined ? undefined : Number(v);
  },
  write: (sql, version) => writeMeta(sql, VERSION_KEY, String(version)),
};

/** The version recorded in `meta`; 0 for an empty object or one created before versioning. */
export function schemaVersion(sql: SqlStorage): number {
  if (!hasIndexSchema(sql)) return 0;
  return Number(readMeta(sql, VERSION_KEY) ?? 0);
}

/** Brings the schema to CURRENT_SCHEMA_VERSION; answers the version it found. */
export function migrateIndexStore(storage: MigratableStorage): number {
  const from = schemaVersion(storage.sql);
  migrate(storage, MIGRATIONS, () => 0, META_VERSION);
  return from;
}

/** Whether the object has any schema at all (a purged or never-used shard has none). */
export function hasIndexSchema(sql: SqlStorage): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray().length > 0;
}

export function readMeta(sql: SqlStorage, key: string): string | undefined {
  return sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value;
}

export function writeMeta(sql: SqlStorage, key: string, value: string): void {
  sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
}
