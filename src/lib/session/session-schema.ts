/**
 * The session object's own tables (its record with the meter and activity time, the conversation's
 * messages, hot paths) as ordered migrations. The hot window and the event log create their own tables.
 */
import { columnExists, type MigratableStorage, type Migration, migrate, tableExists } from "../storage/do-migrations";

export const SESSION_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "the session record, messages and hot paths",
    up: (sql) => {
      sql.exec("CREATE TABLE session (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL, meter TEXT NOT NULL)");
      sql.exec("CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, role TEXT NOT NULL, content TEXT NOT NULL, at TEXT NOT NULL)");
      sql.exec("CREATE TABLE hot_paths (path TEXT PRIMARY KEY, used_at INTEGER NOT NULL)");
    },
  },
  {
    version: 2,
    description: "the session's last activity, for idle expiry",
    up: (sql) => sql.exec("ALTER TABLE session ADD COLUMN active_at INTEGER NOT NULL DEFAULT 0"),
  },
];
export const SESSION_SCHEMA_VERSION = SESSION_MIGRATIONS.length;

/**
 * Where a session stored before versioning stands: no `session` table is a new object (0); the first
 * layout lacked `active_at` (1); the layout created with it is version 2.
 */
export function unversionedSessionVersion(sql: SqlStorage): number {
  if (!tableExists(sql, "session")) return 0;
  return columnExists(sql, "session", "active_at") ? 2 : 1;
}

export function migrateSession(storage: MigratableStorage): number {
  return migrate(storage, SESSION_MIGRATIONS, unversionedSessionVersion);
}
