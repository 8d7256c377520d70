/**
 * A session's event log: every event a run reports gets the next sequence number and is kept in the
 * session object's SQLite, so a WebSocket client that reconnects with the last number it saw receives
 * what it missed. The newest MAX_EVENTS are kept.
 */
export const MAX_EVENTS = 5000;
// An event's data is kept up to this size; a larger generation result keeps its diffs' paths and sizes
// without their contents (the full result is in the HTTP response), anything else is marked truncated.
export const MAX_EVENT_CHARS = 256 * 1024;

export type SessionEvent = { seq: number; type: string; at: string; data: unknown };

export class EventLog {
  constructor(private readonly sql: SqlStorage) {
    sql.exec("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, at TEXT NOT NULL, data TEXT NOT NULL)");
  }

  append(type: string, data: unknown): SessionEvent {
    const at = new Date().toISOString();
    const json = bounded(data);
    const row = this.sql.exec<{ seq: number }>("INSERT INTO events (type, at, data) VALUES (?, ?, ?) RETURNING seq", type, at, json).one();
    if (row.seq % 100 === 0) this.sql.exec("DELETE FROM events WHERE seq <= ?", row.seq - MAX_EVENTS);
    return { seq: row.seq, type, at, data: JSON.parse(json) as unknown };
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

function bounded(data: unknown): string {
  const json = JSON.stringify(data ?? null);
  if (json.length <= MAX_EVENT_CHARS) return json;
  if (data && typeof data === "object" && "diffs" in data && Array.isArray(data.diffs)) {
    const diffs = (data.diffs as { path?: string; content?: string; diff?: string }[]).map((d) => ({
      ...(d.path ? { path: d.path } : {}),
      chars: (d.content ?? d.diff ?? "").length,
    }));
    const slim = JSON.stringify({ ...data, diffs, diffsOmitted: true });
    if (slim.length <= MAX_EVENT_CHARS) return slim;
  }
  return JSON.stringify({ truncated: true, chars: json.length });
}
