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
    corpus: { tarGzBase64: string; files: number; tokens: number; bytes: number };
  }
}
