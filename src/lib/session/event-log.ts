/**
 * A session's event log: every event a run reports gets the next sequence number and is kept in the
 * session object's SQLite, so a WebSocket client that reconnects with the last number it saw receives
 * what it missed. The newest MAX_EVENTS are kept.
 */
// About this many: the oldest are deleted in steps of 100, so 5,000 to 5,099 are held.
export const MAX_EVENTS = 5000;
// An event's data is kept up to this size; a larger generation result keeps its diffs' paths and sizes
// without their contents (the full result is in the HTTP response), anything else is marked truncated.
export const MAX_EVENT_CHARS = 256 * 1024;
const PAGE_CHARS = 4 * 1024 * 1024;

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

  /**
   * Events after `seq`, oldest first, each as its sequence number and its frame (the JSON clients
   * receive, built from the stored data without parsing it), in pages of at most PAGE_CHARS.
   */
  *pages(seq: number): Generator<{ seq: number; frame: string }[]> {
    let after = seq;
    for (;;) {
      const page: { seq: number; frame: string }[] = [];
      let chars = 0;
      for (const r of this.sql.exec<{ seq: number; type: string; at: string; data: string }>(
        "SELECT seq, type, at, data FROM events WHERE seq > ? ORDER BY seq LIMIT 500",
        after,
      )) {
        page.push({ seq: r.seq, frame: `{"seq":${r.seq},"type":${JSON.stringify(r.type)},"at":${JSON.stringify(r.at)},"data":${r.data}}` });
        after = r.seq;
        chars += r.data.length;
        if (chars >= PAGE_CHARS) break;
      }
      if (page.length === 0) return;
      yield page;
    }
  }

  /** The newest event of this type, or 0. */
  lastOf(type: string): number {
    return this.sql.exec<{ seq: number | null }>("SELECT max(seq) AS seq FROM events WHERE type = ?", type).one().seq ?? 0;
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
  if (json.length <= MAX_EVENT_CHARS || !data || typeof data !== "object" || Array.isArray(data)) {
    return json.length <= MAX_EVENT_CHARS ? json : JSON.stringify({ truncated: true, chars: json.length });
  }
  const slim: Record<string, unknown> = { ...data };
  if (Array.isArray(slim.diffs)) {
    slim.diffs = (slim.diffs as { path?: string; content?: string; diff?: string }[]).map((d) => ({
      ...(d.path ? { path: d.path } : {}),
      chars: (d.content ?? d.diff ?? "").length,
    }));
    slim.diffsOmitted = true;
  }
  // Long lists (a context's pieces) keep their head, with the count of what was left out; largest first.
  const lists = Object.entries(slim).sort((a, b) => JSON.stringify(b[1]).length - JSON.stringify(a[1]).length);
  for (const [k, v] of lists) {
    if (!Array.isArray(v) || k === "diffs") continue;
    let keep = v.length;
    while (keep > 0 && JSON.stringify({ ...slim, [k]: v.slice(0, keep) }).length > MAX_EVENT_CHARS) keep = Math.floor(keep / 2);
    if (keep < v.length) {
      slim[k] = v.slice(0, keep);
      slim[`${k}Omitted`] = v.length - keep;
    }
  }
  const out = JSON.stringify(slim);
  return out.length <= MAX_EVENT_CHARS ? out : JSON.stringify({ truncated: true, chars: json.length });
}
