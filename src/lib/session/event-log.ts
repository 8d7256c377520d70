/**
 * A session's event log: every event a run reports gets the next sequence number and is kept in the
 * session object's SQLite, so a WebSocket client that reconnects with the last number it saw receives
 * what it missed. The newest MAX_EVENTS are kept.
 */
export const MAX_EVENTS = 5000;

export type SessionEvent = { seq: number; type: string; at: string; data: unknown };

export class EventLog {
  constructor(private readonly sql: SqlStorage) {
    sql.exec("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, at TEXT NOT NULL, data TEXT NOT NULL)");
  }

  append(type: string, data: unknown): SessionEvent {
    const at = new Date().toISOString();
    const row = this.sql
      .exec<{ seq: number }>("INSERT INTO events (type, at, data) VALUES (?, ?, ?) RETURNING seq", type, at, JSON.stringify(data ?? null))
      .one();
    if (row.seq % 100 === 0) this.sql.exec("DELETE FROM events WHERE seq <= ?", row.seq - MAX_EVENTS);
    return { seq: row.seq, type, at, data };
  }

  /** Events after `seq`, oldest first. */
  since(seq: number, limit = MAX_EVENTS): SessionEvent[] {
    return this.sql
      .exec<{ seq: number; type: string; at: string; data: string }>("SELECT seq, type, at, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?", seq, limit)
      .toArray()
      .map((r) => ({ seq: r.seq, type: r.type, at: r.at, data: JSON.parse(r.data) as unknown }));
  }

  last(): number {
    return this.sql.exec<{ seq: number | null }>("SELECT max(seq) AS seq FROM events").one().seq ?? 0;
  }

  /** The oldest sequence number still held: a client that saw less than this has missed some for good. */
  first(): number {
    return this.sql.exec<{ seq: number | null }>("SELECT min(seq) AS seq FROM events").one().seq ?? 0;
  }
}
