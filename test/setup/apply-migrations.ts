import { applyD1Migrations, env } from "cloudflare:test";

// Applied once per test file's isolate; applyD1Migrations skips migrations already applied.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
