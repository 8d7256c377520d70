import { defineConfig } from "vitest/config";

// The web console in a real browser (Chromium from Debian, driven by playwright-core) against a real local
// server: Node-side, like the CLI tests.
export default defineConfig({
  test: {
    include: ["test/ui/**/*.ui.test.ts"],
    environment: "node",
    globalSetup: ["./test/ui/global-setup.ts"],
    // wrangler dev takes up to a minute to start on a busy 2-core machine; the walk-through ingests and
    // runs a generation, each waiting on queue batches or the model's stream.
    testTimeout: 180_000,
    hookTimeout: 240_000,
  },
});
