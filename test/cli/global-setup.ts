/**
 * Before the CLI tests: builds the CLI bundle, starts the local Messages API and a private local server
 * (wrangler dev on a free port, fresh state) that talks to it, and hands the tests its URL and admin key.
 */
import type { TestProject } from "vitest/node";
import { buildCli } from "../../scripts/build-cli.mjs";
import { startLocalServer } from "../../scripts/local-server";
import { startMessagesServer } from "../node/messages-server";
import { freePort } from "./free-port";

declare module "vitest" {
  export interface ProvidedContext {
    cli: { bin: string; server: string; adminKey: string; orgId: string; messagesUrl: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bin = await buildCli();
  const messages = await startMessagesServer();
  const server = await startLocalServer(await freePort(), ".vitest/cli-server", {
    vars: { ANTHROPIC_API_KEY: "test-anthropic-key", ANTHROPIC_BASE_URL: messages.url },
    stderrPath: ".vitest/cli-server.log",
  });
  project.provide("cli", { bin, server: server.base, adminKey: server.token, orgId: server.orgId, messagesUrl: messages.url });
  return async () => {
    server.stop();
    await messages.close();
  };
}
