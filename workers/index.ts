/** The Worker entry: HTTP goes to the Hono app, queue batches to the ingestion consumers. */
import { app } from "./api/app";
import { consumeDeadLetters, consumeIngest } from "./ingest/consumer";

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
} satisfies ExportedHandler<Env, unknown>;
