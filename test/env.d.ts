import type { D1Migration } from "@cloudflare/vitest-pool-workers";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}

declare module "vitest" {
  export interface ProvidedContext {
    gitHostUrl: string;
    gitDiffs: import("./node/git-diffs").GitDiffCase[];
    corpus: { archiveBase64: string; tokens: number; bytes: number; files: { path: string; bytes: number }[] };
    loopbackFaultsUrl: string;
    messagesApiUrl: string;
    realArchivesUrl: string;
    sandboxRunner: {
      url: string;
      secret: string;
      limits: import("../src/lib/sandbox/runner/server").RunnerLimits;
      /** `host:port` of the local npm registry, the only host installs may reach. */
      registryHost: string;
    };
    /** A runner whose install cache holds `maxBytes` (a few MiB), for the eviction tests. */
    sandboxRunnerSmallCache: { url: string; secret: string; maxBytes: number };
    sandboxFixtures: {
      invoiceProject: { path: string; content: string }[];
      invoiceFix: string;
      slugProject: { path: string; content: string }[];
      slugFix: string;
      /** The invoice project with a pnpm and a yarn (classic) lockfile in place of npm's. */
      pnpmProject: { path: string; content: string }[];
      yarnProject: { path: string; content: string }[];
      cargoProject: { path: string; content: string }[];
      cargoFix: string;
      /** The package managers and toolchains the sandbox can see on this machine (under /usr). */
      toolchains: { pnpm: boolean; yarn: boolean; cargo: boolean };
    };
    webhookExamples: { push: Record<string, unknown>[]; ping: Record<string, unknown>[] };
  }
}
