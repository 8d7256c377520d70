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
    sandboxFixtures: {
      invoiceProject: { path: string; content: string }[];
      invoiceFix: string;
      slugProject: { path: string; content: string }[];
      slugFix: string;
    };
    webhookExamples: { push: Record<string, unknown>[]; ping: Record<string, unknown>[] };
  }
}
