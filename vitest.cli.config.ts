import { defineConfig } from "vitest/config";

// Node-side, since tests in workerd cannot spawn processes: the built CLI against a real local server (wrangler dev),
// and the scripts' own tests.
export default defineConfig({
  test: {
    include: ["test/cli/**/*.test.ts", "test/scripts/**/*.test.ts"],
    environment: "node",
    globalSetup: ["./test/cli/global-setup.ts"],
    // wrangler dev takes up to a minute to start on a busy 2-core machine; an ingest waits on queue batches.
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
