/** winky watch <sessionId> [--after N] [--until-idle]: streams a session's events, reconnecting with ?after= so none is lost. */

import { describeEvent, isRunEnd } from "../../src/client/session-events";
import { type Ctx, intFlag, required } from "../context";
import { nodeSocket } from "../node-socket";

export async function watch(ctx: Ctx): Promise<void> {
  const sessionId = required(ctx.args[0], "the session id: winky watch <sessionId>");
  const after = intFlag(ctx.flags.after, "after") ?? 0;
  const client = ctx.client();
  // Fails fast (404, 401) before the socket opens.
  await client.sessions.get(sessionId);
  const { out } = ctx;
  const untilIdle = ctx.flags["until-idle"] === true;
  const socket = client.sessions.connect(sessionId, {
    after,
    socket: nodeSocket,
    onEvent: (e) => {
      out.line(e, describeEvent(e));
      if (untilIdle && isRunEnd(e)) socket.close();
    },
    onControl: (f) => {
      if (f.type === "gap") out.note(`events ${f.from}-${f.to} are no longer kept`);
      if (untilIdle && f.type === "replayed" && !f.running) socket.close();
    },
    onReconnect: (attempt, last) => out.note(`reconnecting (attempt ${attempt}) after event ${last}`),
  });
  const stop = () => socket.close();
  process.once("SIGINT", stop);
  try {
    await socket.closed;
  } finally {
    process.off("SIGINT", stop);
  }
}
