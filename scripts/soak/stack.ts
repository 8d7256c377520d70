/** The soak's private stack on 127.0.0.1: wrangler dev (fresh state) with the fake git host, Messages API and the bubblewrap runner. */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { startRunner } from "../../src/lib/sandbox/runner/server";
import { startGitHost } from "../../test/node/git-host-server";
import { startMessagesServer } from "../../test/node/messages-server";
import { type LocalServer, startLocalServer } from "../local-server";

export type Stack = { server: LocalServer; gitHost: string; messages: string; runner: string; logDir: string; stop(): Promise<void> };

export async function startStack(port: number, logDir = ".soak"): Promise<Stack> {
  mkdirSync(logDir, { recursive: true });
  const gitHost = await startGitHost();
  const messages = await startMessagesServer();
  const secret = randomBytes(24).toString("hex");
  // Port 0: the runner takes a free port, so a soak never collides with a running `npm run dev`.
  const runner = await startRunner({ port: 0, secret, root: resolve(logDir, "runs") });
  const server = await startLocalServer(port, `${logDir}/state`, {
    vars: {
      GIT_API_BASE_URL: gitHost.url,
      ANTHROPIC_API_KEY: "sk-ant-local-soak",
      ANTHROPIC_BASE_URL: messages.url,
      SANDBOX_RUNNER_URL: runner.url,
      SANDBOX_RUNNER_SECRET: secret,
    },
    stdoutPath: `${logDir}/wrangler-stdout.log`,
    stderrPath: `${logDir}/wrangler-stderr.log`,
  });
  return {
    server,
    gitHost: gitHost.url,
    messages: messages.url,
    runner: runner.url,
    logDir,
    async stop() {
      server.stop();
      // A fake holding a keep-alive connection must not keep the soak from ending.
      await Promise.race([Promise.all([gitHost.close(), messages.close(), runner.close()]), new Promise((r) => setTimeout(r, 5_000))]);
    },
  };
}
