/**
 * Before the browser tests: builds the console, starts the local Messages API and a private local server
 * (wrangler dev on a free port, fresh state) that serves the console and talks to it.
 */
import type { TestProject } from "vitest/node";
import { buildConsole } from "../../scripts/build-console.mjs";
import { startLocalServer } from "../../scripts/local-server";
import { freePort } from "../cli/free-port";
import { startMessagesServer } from "../node/messages-server";

declare module "vitest" {
  export interface ProvidedContext {
    ui: { server: string; adminKey: string; messagesUrl: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await buildConsole();
  const messages = await startMessagesServer();
  const server = await startLocalServer(await freePort(), ".vitest/ui-server", {
    vars: { ANTHROPIC_API_KEY: "test-anthropic-key", ANTHROPIC_BASE_URL: messages.url },
    stderrPath: ".vitest/ui-server.log",
  });
  project.provide("ui", { server: server.base, adminKey: server.token, messagesUrl: messages.url });
  return async () => {
    server.stop();
    await messages.close();
  };
}
