/** A session's stored parts over one SQLite storage: hot window, event log, conversation memory and cost meter. */

import { ConversationMemory, KEPT_MESSAGES, type StoredMessage } from "./conversation-memory";
import { CostMeter, type Meter } from "./cost-meter";
import { EventLog } from "./event-log";
import { HotWindow } from "./hot-window";
import type { SessionMeta } from "./ownership";

export type SessionInfo = SessionMeta & {
  meter: Meter;
  hotWindow: ReturnType<HotWindow["stats"]>;
  hotPaths: string[];
  messages: StoredMessage[];
  lastEventSeq: number;
  running: boolean;
};

export class SessionStore {
  readonly hot: HotWindow;
  readonly log: EventLog;
  readonly memory: ConversationMemory;
  readonly meter: CostMeter;

  constructor(sql: SqlStorage) {
    this.hot = new HotWindow(sql);
    this.log = new EventLog(sql);
    this.memory = new ConversationMemory(sql);
    this.meter = new CostMeter(sql);
  }

  describe(meta: SessionMeta, running: boolean): SessionInfo {
    return {
      ...meta,
      meter: this.meter.read(),
      hotWindow: this.hot.stats(),
      hotPaths: this.memory.hotPaths(),
      messages: this.memory.messages(KEPT_MESSAGES),
      lastEventSeq: this.log.last(),
      running,
    };
  }
}
