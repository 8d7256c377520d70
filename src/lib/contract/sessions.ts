/** Sessions: requests and responses of /api/sessions. */
import { z } from "zod";
import { AssembledContext } from "./context";

export { AssembleFields as SessionAssemble } from "./context";

export const SessionId = z.string().regex(/^ses_[A-Za-z0-9_-]{8,64}$/, "not a session id");
export const CreateSession = z.object({ projectId: z.string().min(1).max(64) });

export const SessionInfo = z
  .object({
    sessionId: z.string(),
    projectId: z.string(),
    orgId: z.string(),
    createdAt: z.string(),
    meter: z.object({ calls: z.number(), inputTokens: z.number(), outputTokens: z.number(), costUsd: z.number() }),
    hotWindow: z.object({ entries: z.number(), bytes: z.number(), limitBytes: z.number(), ttlMs: z.number() }),
    hotPaths: z.array(z.string()),
    messages: z.array(z.object({ role: z.string(), content: z.string(), at: z.string() })),
    lastEventSeq: z.number().describe("resume the WebSocket with ?after=<seq> to replay what came after"),
    running: z.boolean(),
  })
  .meta({ id: "Session" });

export const SessionAssembleResponse = AssembledContext.extend({
  model: z.string(),
  hotWindow: z.object({ reused: z.number(), added: z.number() }),
});
