/**
 * Versioned SQLite schemas for Durable Objects: an ordered list of migrations, each applied once, in its
 * own transaction with the version it brings. Where the version is kept is the object's choice (a
 * one-row `schema_version` table by default). An object written before versioning (tables but no
 * version) is placed by `baseline`, which reads its layout.
 */
export type Migration = { version: number; description: string; up: (sql: SqlStorage) => void };
export type MigratableStorage = { sql: SqlStorage; transactionSync<T>(fn: () => T): T };
/** Where a storage keeps its schema version: `read` answers undefined when none was ever written. */
export type VersionRecord = { name: string; read(sql: SqlStorage): number | undefined; write(sql: SqlStorage, version: number): void };

export const SCHEMA_VERSION_TABLE: VersionRecord = {
  name: "schema",
  read(sql) {
    sql.exec("CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
    return sql.exec<{ version: number }>("SELECT version FROM schema_version WHERE id = 1").toArray()[0]?.version;
  },
  write(sql, version) {
    sql.exec("INSERT OR REPLACE INTO schema_version (id, version) VALUES (1, ?)", version);
  },
};

/**
 * Applies the migrations newer than the stored version; answers the version reached. A stored version
 * newer than the list means older code is running against newer data: it fails rather than guess.
 */
export function migrate(
  storage: MigratableStorage,
  migrations: readonly Migration[],
  baseline: (sql: SqlStorage) => number = () => 0,
  record: VersionRecord = SCHEMA_VERSION_TABLE,
): number {
  checkOrder(migrations);
  const sql = storage.sql;
  const stored = record.read(sql);
  if (stored !== undefined && stored > migrations.length) throw new Error(`${record.name} version ${stored} is newer than this code (${migrations.length})`);
  let version = stored ?? baseline(sql);
  // An unversioned storage already at some version gets its record now, so its layout is read only once.
  if (stored === undefined && version > 0) record.write(sql, version);
  for (const m of migrations) {
    if (m.version <= version) continue;
    storage.transactionSync(() => {
      m.up(sql);
      record.write(sql, m.version);
    });
    version = m.version;
  }
  return version;
}

/** The version a storage holds: 0 when it has never been migrated. */
export function schemaVersion(sql: SqlStorage): number {
  if (!tableExists(sql, "schema_version")) return 0;
  return sql.exec<{ version: number }>("SELECT version FROM schema_version WHERE id = 1").toArray()[0]?.version ?? 0;
}

export function tableExists(sql: SqlStorage, name: string): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray().length > 0;
}

export function columnExists(sql: SqlStorage, table: string, column: string): boolean {
  return sql
    .exec<{ name: string }>(`PRAGMA table_info(${table})`)
    .toArray()
    .some((c) => c.name === column);
}

// A list out of order would skip or repeat a step on some objects: refused before anything runs.
function checkOrder(migrations: readonly Migration[]): void {
  for (const [i, m] of migrations.entries())
    if (m.version !== i + 1) throw new Error(`migration ${i} has version ${m.version}; versions must run 1, 2, 3… in order`);
}
