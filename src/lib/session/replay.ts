/**
 * What a WebSocket client is sent from the event log: where a new connection starts, a bounded replay
 * of the events after a number, and the answers to its messages (`resume`, `ping`).
 */
import { errorBody } from "../errors";
import type { EventLog } from "./event-log";

// Characters one replay sends before it stops with a `more` frame (the replay's memory stays bounded).
export const REPLAY_CHARS = 16 * 1024 * 1024;
export const CLIENT_MESSAGES = "messages are JSON: {type: 'resume', after: seq} or {type: 'ping'}";

type ReplaySource = Pick<EventLog, "first" | "last" | "pages" | "lastOf">;

/** `?after=<seq>` when it is a number; without it, from the latest run's start. */
export function resumePoint(param: string | null, log: Pick<EventLog, "lastOf">): number {
  return param !== null && /^\d+$/.test(param) ? Number(param) : Math.max(0, log.lastOf("started") - 1);
}

/**
 * Sends the events after `after` as stored, oldest first, up to `maxChars`; past that a `more` frame
 * tells the client where to resume. A `gap` frame first when events it has not seen are gone.
 */
export function replay(log: ReplaySource, send: (frame: string) => void, after: number, running: boolean, maxChars = REPLAY_CHARS): void {
  const first = log.first();
  // Events older than the log keeps are gone: say so instead of pretending the stream is complete.
  if (first > after + 1) send(JSON.stringify({ type: "gap", from: after + 1, to: first - 1 }));
  let sent = 0;
  for (const page of log.pages(after)) {
    for (const e of page) {
      if (sent + e.frame.length > maxChars && sent > 0) {
        send(JSON.stringify({ type: "more", after: e.seq - 1, lastEventSeq: log.last() }));
        return;
      }
      send(e.frame);
      sent += e.frame.length;
    }
  }
  send(JSON.stringify({ type: "replayed", lastEventSeq: log.last(), running }));
}

/** Answers a client message: `{"type":"resume","after":N}` replays from N; `{"type":"ping"}` gets a pong. */
export function answerClientMessage(log: ReplaySource, send: (frame: string) => void, message: string | ArrayBuffer, running: boolean): void {
  const invalid = JSON.stringify({ type: "invalid", error: errorBody("invalid_message", CLIENT_MESSAGES) });
  let msg: { type?: unknown; after?: unknown };
  try {
    msg = JSON.parse(typeof message === "string" ? message : new TextDecoder().decode(message)) as typeof msg;
  } catch {
    send(invalid);
    return;
  }
  if (msg.type === "resume" && typeof msg.after === "number" && Number.isInteger(msg.after) && msg.after >= 0) replay(log, send, msg.after, running);
  else if (msg.type === "ping") send(JSON.stringify({ type: "pong", lastEventSeq: log.last() }));
  else send(invalid);
}

/** Appends an event to the log and sends its frame to every open socket. */
export function publish(log: Pick<EventLog, "append">, sockets: Iterable<WebSocket>, type: string, data: unknown): void {
  const frame = JSON.stringify(log.append(type, data));
  for (const ws of sockets) {
    try {
      ws.send(frame);
    } catch {
      // A socket that is closing misses this event live; it gets it on resume.
    }
  }
}
