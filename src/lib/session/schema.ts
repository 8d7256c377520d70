/**
 * Versioned SQLite schemas for Durable Objects: a one-row `schema_version` table and an ordered list of
 * migrations, each applied once, in its own transaction with the version it brings. An object written
 * before versioning (tables but no version row) is placed by `baseline`, which reads its layout.
 */
export type Migration = { version: number; description: string; up: (sql: SqlStorage) => void };
export type MigratableStorage = { sql: SqlStorage; transactionSync<T>(fn: () => T): T };

/** Applies the migrations newer than the stored version; answers the version reached. */
export function migrate(storage: MigratableStorage, migrations: readonly Migration[], baseline: (sql: SqlStorage) => number = () => 0): number {
  checkOrder(migrations);
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
  const stored = sql.exec<{ version: number }>("SELECT version FROM schema_version WHERE id = 1").toArray()[0]?.version;
  let version = stored ?? baseline(sql);
  // An unversioned storage already at some version gets its row now, so its layout is read only once.
  if (stored === undefined && version > 0) sql.exec("INSERT INTO schema_version (id, version) VALUES (1, ?)", version);
  for (const m of migrations) {
    if (m.version <= version) continue;
    storage.transactionSync(() => {
      m.up(sql);
      sql.exec("INSERT OR REPLACE INTO schema_version (id, version) VALUES (1, ?)", m.version);
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
