/** When a session's alarm deletes it (idle for SESSION_IDLE_MS with nothing in flight), else when it runs next. */
export const SESSION_IDLE_MS = 7 * 24 * 60 * 60 * 1000;
// The alarm runs at least a minute apart, and at the latest a second after the session would turn idle.
const MIN_ALARM_GAP_MS = 60_000;
const AFTER_IDLE_MS = 1000;

export type AlarmDecision = { expire: true } | { expire: false; nextAlarmAt: number };

export function alarmDecision(s: { now: number; activeAt: number; inFlight: number; ttlMs: number; idleMs?: number }): AlarmDecision {
  const idleMs = s.idleMs ?? SESSION_IDLE_MS;
  if (s.inFlight === 0 && s.now - s.activeAt > idleMs) return { expire: true };
  return { expire: false, nextAlarmAt: Math.max(s.now + MIN_ALARM_GAP_MS, Math.min(s.now + s.ttlMs, s.activeAt + idleMs + AFTER_IDLE_MS)) };
}

/** The session record's activity time: every request sets it, the alarm reads it. */
export const touchSession = (sql: SqlStorage, now = Date.now()): void => void sql.exec("UPDATE session SET active_at = ? WHERE id = 1", now);
export const sessionActiveAt = (sql: SqlStorage): number => sql.exec<{ active_at: number }>("SELECT active_at FROM session WHERE id = 1").one().active_at;

/**
 * A session's activity: each request marks it active, and requests that await other objects are counted
 * in flight until they settle, so the idle alarm leaves the session alone meanwhile.
 */
export class Activity {
  inFlight = 0;

  constructor(private readonly sql: SqlStorage) {}

  touch(now = Date.now()): void {
    touchSession(this.sql, now);
  }

  activeAt(): number {
    return sessionActiveAt(this.sql);
  }

  async busy<T>(fn: () => Promise<T>): Promise<T> {
    this.touch();
    this.inFlight++;
    try {
      return await fn();
    } finally {
      this.inFlight--;
      this.touch();
    }
  }
}
