/** A session's memory of its conversation: the last messages (bounded in count and size) and the paths its calls used. */
export type StoredMessage = { role: string; content: string; at: string };
export type ConversationMessage = { role: string; content: string };

// The spec's prompt carries the last 10 messages; they take at most a tenth of a call's budget (at
// about 3 characters a token, to err high), each cut to MESSAGE_PROMPT_CHARS, the oldest dropped first.
export const PROMPT_MESSAGES = 10;
export const MESSAGE_PROMPT_CHARS = 4000;
export const MESSAGE_STORED_CHARS = 20_000;
export const KEPT_MESSAGES = 50;
export const KEPT_HOT_PATHS = 50;

const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)} […]` : s);

/** The messages a prompt of `budget` tokens carries: newest kept first, within a tenth of the budget. */
export function promptConversation(recent: readonly ConversationMessage[], budget: number): ConversationMessage[] {
  let room = Math.floor(budget * 0.1) * 3;
  const out: ConversationMessage[] = [];
  for (const m of [...recent].reverse()) {
    const content = cut(m.content, MESSAGE_PROMPT_CHARS);
    if (content.length > room) break;
    room -= content.length;
    out.unshift({ role: m.role, content });
  }
  return out;
}

/** The session's `messages` and `hot_paths` tables. */
export class ConversationMemory {
  constructor(private readonly sql: SqlStorage) {}

  /** The last `n` messages, oldest first. */
  messages(n = KEPT_MESSAGES): StoredMessage[] {
    return this.sql.exec<StoredMessage>("SELECT role, content, at FROM messages ORDER BY seq DESC LIMIT ?", n).toArray().reverse();
  }

  /** Paths used most recently first. */
  hotPaths(): string[] {
    return this.sql
      .exec<{ path: string }>("SELECT path FROM hot_paths ORDER BY used_at DESC LIMIT ?", KEPT_HOT_PATHS)
      .toArray()
      .map((r) => r.path);
  }

  forPrompt(budget: number): ConversationMessage[] {
    return promptConversation(this.messages(PROMPT_MESSAGES), budget);
  }

  remember(messages: ConversationMessage[], paths: string[], now = Date.now()): void {
    const at = new Date(now).toISOString();
    for (const m of messages) this.sql.exec("INSERT INTO messages (role, content, at) VALUES (?, ?, ?)", m.role, cut(m.content, MESSAGE_STORED_CHARS), at);
    this.sql.exec("DELETE FROM messages WHERE seq <= (SELECT max(seq) FROM messages) - ?", KEPT_MESSAGES);
    for (const p of paths) this.sql.exec("INSERT OR REPLACE INTO hot_paths (path, used_at) VALUES (?, ?)", p, now);
    this.sql.exec("DELETE FROM hot_paths WHERE path NOT IN (SELECT path FROM hot_paths ORDER BY used_at DESC LIMIT ?)", KEPT_HOT_PATHS);
  }
}
