import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/**
 * The unit tests: still inside workerd, but without the Worker (no `main`, no bindings), so a file's fresh
 * isolate loads only what the file imports instead of the whole Worker (~1-2 s a file against ~6-8 s).
 * Files that need bindings are integration tests (vitest.config.ts).
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      miniflare: {
        compatibilityDate: "2026-04-01",
        compatibilityFlags: ["nodejs_compat"],
        modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
      },
    }),
  ],
  test: {
    // Two files at once: vitest's default on a 2-core machine is one, and a workerd test file spends much of its
    // time waiting (isolate start, the sandbox runner, queues); the integration suite took 833 s with one, 515 s with two.
    maxWorkers: 2,
    include: ["test/**/*.unit.test.ts"],
    // The CLI and browser suites run in Node (their own configs).
    exclude: ["test/cli/**", "test/scripts/**", "test/ui/**", "**/node_modules/**"],
    globalSetup: ["./test/node/global-setup.ts"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
