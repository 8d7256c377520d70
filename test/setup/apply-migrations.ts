import { applyD1Migrations, env } from "cloudflare:test";
import { TEST_ADMIN_KEY, TEST_ORG_ID } from "../support/test-org";

// Applied once per test file's isolate; applyD1Migrations skips migrations already applied.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

// The org every test acts in unless it makes its own, with an admin key holding every scope (as the first
// key of an org made through POST /api/orgs does).
const hash = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(TEST_ADMIN_KEY))))
  .map((b) => b.toString(16).padStart(2, "0"))
  .join("");
await env.DB.batch([
  env.DB.prepare("INSERT OR IGNORE INTO orgs (org_id, name) VALUES (?, 'test')").bind(TEST_ORG_ID),
  env.DB.prepare("INSERT OR IGNORE INTO api_keys (key_id, org_id, key_hash, name, prefix) VALUES ('key_test_admin', ?, ?, 'test admin', 'wk_test_ad')").bind(
    TEST_ORG_ID,
    hash,
  ),
]);
