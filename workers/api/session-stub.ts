/** The Session object of a session id, for every route that reaches one. */
import type { Session } from "../../durable-objects/session";
import { SessionId } from "../../src/lib/contract/sessions";
import { parseWith } from "./validate";

/**
 * The session's object for a well-formed id. Its methods check that the caller's org owns it (another
 * org's session answers as a missing one), so no extra round trip is made here.
 */
export function sessionStub(env: Env, sessionId: string): DurableObjectStub<Session> {
  return env.SESSION.getByName(parseWith(SessionId, sessionId, "session id"));
}
