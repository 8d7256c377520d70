import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest(async ({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          WINKY_API_TOKEN: "test-bootstrap-token",
          // Seals the repository tokens orgs give (32 bytes, base64).
          WINKY_SEAL_KEY: "dGVzdC1zZWFsLWtleS0wMDAwMDAwMDAwMDAwMDAwMDA",
          // Fault injection in the ingestion path (test-only; no deployed environment has this binding).
          WINKY_FAULTS: "on",
          // Every response is checked against its route's OpenAPI schema (workers/api/openapi.ts): a mismatch is a 500.
          WINKY_VALIDATE_RESPONSES: "on",
          // The git host API is a real HTTP server started by test/global-setup.ts.
          GIT_API_BASE_URL: inject<string>("gitHostUrl"),
          // The bubblewrap sandbox runner, also started by test/node/global-setup.ts.
          SANDBOX_RUNNER_URL: inject<{ url: string }>("sandboxRunner").url,
          SANDBOX_RUNNER_SECRET: inject<{ secret: string }>("sandboxRunner").secret,
          // The real Anthropic SDK talks to a local server that speaks the Messages API.
          ANTHROPIC_API_KEY: "test-anthropic-key",
          ANTHROPIC_BASE_URL: inject<string>("messagesApiUrl"),
          // Model-written summaries only for the orgs a test turns them on for (org setting modelSummaries: "on"),
          // so other tests' ingestions send nothing to the model; their directory pass runs without waiting.
          MODEL_SUMMARIES: "off",
          SUMMARY_DIR_DELAY_S: "0",
        },
      },
    })),
  ],
  test: {
    // Two files at once: vitest's default on a 2-core machine is one, and a workerd test file spends much of its
    // time waiting (isolate start, the sandbox runner, queues); the integration suite took 833 s with one, 515 s with two.
    maxWorkers: 2,
    include: ["test/**/*.test.ts"],
    // The CLI and scripts tests spawn processes, which workerd cannot: they run in Node (vitest.cli.config.ts). Unit tests
    // run in workerd without the Worker (vitest.unit.config.ts).
    exclude: ["test/cli/**", "test/scripts/**", "test/ui/**", "test/**/*.unit.test.ts", "**/node_modules/**"],
    globalSetup: ["./test/node/global-setup.ts"],
    setupFiles: ["./test/setup/apply-migrations.ts"],
    // Every test file imports the Worker's whole module graph into a fresh workerd isolate, one module per
    // round trip; pre-bundling the dependencies makes each of them one module (per file: ~12 s → ~8 s).
    // @cloudflare/sandbox is left out: its bundle imports node:path/posix, which the optimizer cannot resolve.
    deps: {
      optimizer: {
        ssr: {
          enabled: true,
          include: [
            "zod",
            "drizzle-orm",
            "drizzle-orm/sqlite-core",
            "drizzle-orm/d1",
            "drizzle-orm/batch",
            "hono",
            "hono/validator",
            "hono/utils/html",
            "hono/route",
            "hono/http-exception",
            "hono/html",
            "hono/body-limit",
            "hono-openapi",
            "@modelcontextprotocol/sdk/types.js",
            "@modelcontextprotocol/sdk/validation/cfworker",
            "@modelcontextprotocol/sdk/shared/protocol.js",
            "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js",
            "@modelcontextprotocol/sdk/server/mcp.js",
            "@anthropic-ai/sdk",
            "re2js",
            "modern-tar",
            "ignore",
            "diff",
            "js-tiktoken/ranks/o200k_base",
            "js-tiktoken/ranks/cl100k_base",
          ],
        },
      },
    },
    // The 1M-token end-to-end ingest and the pathological tokenizer inputs run for tens of seconds
    // on a 2-core machine; queue delivery adds up to a second per batch.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
