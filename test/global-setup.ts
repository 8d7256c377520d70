/**
 * Runs in Node before the workers pool starts: serves a fake-free git host (a real HTTP server that
 * answers the contents API from files registered by tests) and builds the 1M-token corpus once.
 */
import type { TestProject } from "vitest/node";
import { startGitHost } from "./support/git-host-server";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const host = await startGitHost();
  project.provide("gitHostUrl", host.url);
  return async () => host.close();
}
