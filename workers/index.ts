/** The Worker entry: HTTP goes to the Hono app, queue batches to the ingestion consumers, the cron to maintenance. */
import { orgWide } from "../src/lib/auth";
import { runMaintenance } from "../src/lib/retention";
import { openDb } from "../src/lib/storage";
import { app } from "./api/app";
import { consumeDeadLetters, consumeIngest } from "./ingest/consumer";

// The container's outbound rules (the install phase's registry allow-list) are applied through this entrypoint.
export { ContainerProxy } from "@cloudflare/sandbox";
export { JobWatchdog } from "../durable-objects/job-watchdog";
export { KeyRateLimiter } from "../durable-objects/key-rate-limiter";
export { OrgModelGate } from "../durable-objects/org-model-gate";
export { ProjectIndex } from "../durable-objects/project-index";
export { SandboxContainer } from "../durable-objects/sandbox-container";
export { Session } from "../durable-objects/session";

export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    if (batch.queue.endsWith("-dlq")) await consumeDeadLetters(batch, env);
    else await consumeIngest(batch, env);
  },
  scheduled(controller, env, ctx) {
    const deps = {
      db: openDb(env.DB),
      bucket: env.CHUNKS,
      // An org mismatch is answered as missing: the registry row named a session that is not there.
      wipeSession: async (sessionId: string, orgId: string) => void (await env.SESSION.getByName(sessionId).wipe(orgWide(orgId))),
    };
    ctx.waitUntil(runMaintenance(deps, controller.scheduledTime).then((report) => console.log(JSON.stringify({ maintenance: report, cron: controller.cron }))));
  },
} satisfies ExportedHandler<Env, unknown>;
