/**
 * winky ask "<prompt>" --project ID [--apply [--yes]]: opens a session, asks for a change in it, streams
 * its events live from the session's socket (plan, passes, tokens, sandbox), shows the verified diff and
 * with --apply applies it to the working tree (`git apply --3way`) after a y/N confirmation.
 */
import type { Generation, SessionEvent } from "../../src/client";
import { describeEvent, isRunEnd } from "../../src/client/session-events";
import { applyPatch, patchOf } from "../apply-diff";
import { type Ctx, required } from "../context";
import { EXIT, type ExitCode } from "../exit-codes";
import { nodeSocket } from "../node-socket";
import { confirm } from "../prompt";

// After the HTTP answer, how long the socket may take to deliver the run's last event.
const LAST_EVENT_WAIT_MS = 5_000;

export async function askCommand(ctx: Ctx): Promise<ExitCode> {
  const prompt = required(ctx.args.join(" ").trim(), 'the prompt: winky ask "<prompt>" --project ID');
  const projectId = required(ctx.flags.project, "--project ID");
  const client = ctx.client();
  const { out } = ctx;
  const session = await client.sessions.create({ projectId });
  out.note(`session ${session.sessionId}`);
  let ended: () => void = () => undefined;
  const runEnded = new Promise<void>((resolve) => {
    ended = resolve;
  });
  const socket = client.sessions.connect(session.sessionId, {
    after: 0,
    socket: nodeSocket,
    onEvent: (e: SessionEvent) => {
      if (out.json) out.line({ event: e }, "");
      else out.note(describeEvent(e));
      if (isRunEnd(e)) ended();
    },
    onReconnect: (attempt, after) => out.note(`reconnecting (attempt ${attempt}) after event ${after}`),
  });
  let result: Generation;
  try {
    const answer = await client.ai.generatePrototype({ projectId, sessionId: session.sessionId, prompt, verify: !ctx.flags["skip-verify"] });
    if ("dryRun" in answer) throw new Error("the server answered a dry run");
    result = answer;
    await Promise.race([runEnded, new Promise((r) => setTimeout(r, LAST_EVENT_WAIT_MS))]);
  } finally {
    socket.close();
  }
  const cwd = process.cwd();
  const patch = await patchOf(result.diffs, cwd);
  const verified = result.verification.at(-1)?.status ?? "not verified";
  out.result({ result, patch }, `plan: ${result.plan.summary}\nverification: ${verified}\n\n${patch || "(no changes)"}`);
  if (!ctx.flags.apply || !patch) return EXIT.ok;
  if (!ctx.flags.yes && !(await confirm("apply this change to the working tree?"))) {
    out.note("not applied");
    return EXIT.ok;
  }
  const applied = applyPatch(patch, cwd);
  out.note(applied.ok ? `applied${applied.output ? `: ${applied.output}` : ""}` : `git apply --3way failed: ${applied.output}`);
  return applied.ok ? EXIT.ok : EXIT.failure;
}
