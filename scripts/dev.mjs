// npm run dev: make sure .dev.vars (mode 0600) has the bootstrap token, the default org's admin key and the
// sandbox runner's URL and secret, apply D1 migrations locally and seed that org and key, start the sandbox
// runner, build the web console (and rebuild it on changes), then serve the Worker with wrangler on PORT (default 8787).
// Everything runs locally; no Cloudflare account needed.
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { watchConsole } from "./build-console.mjs";

/** A value from .dev.vars, created (random, or `fallback`) and saved if missing. */
function devVar(name, make) {
  const current = existsSync(".dev.vars") ? readFileSync(".dev.vars", "utf8") : "";
  const found = new RegExp(`^${name}=(.+)$`, "m").exec(current);
  if (found) return found[1].trim();
  const value = make();
  writeFileSync(".dev.vars", `${current}${current && !current.endsWith("\n") ? "\n" : ""}${name}=${value}\n`, { mode: 0o600 });
  console.log(`added ${name} to .dev.vars`);
  return value;
}

/** The local org every `npm run dev` user acts in, and the id of its admin key. */
const DEV_ORG_ID = "org_default";
const DEV_KEY_ID = "key_dev_admin";

/** Fills .dev.vars (readable by its owner only, as it holds credentials); returns the admin key. */
export function ensureDevVars() {
  devVar("SANDBOX_RUNNER_SECRET", () => randomBytes(24).toString("hex"));
  devVar("SANDBOX_RUNNER_URL", () => `http://127.0.0.1:${process.env.SANDBOX_RUNNER_PORT ?? "8790"}`);
  // The operator's credential: it only creates orgs (POST /api/orgs).
  devVar("WINKY_API_TOKEN", () => `wk_boot_${randomBytes(24).toString("hex")}`);
  // Seals the repository tokens orgs give when they link a project (src/lib/crypto/seal.ts).
  devVar("WINKY_SEAL_KEY", () => randomBytes(32).toString("base64"));
  const key = devVar("WINKY_API_KEY", () => `wk_${randomBytes(32).toString("base64url")}`);
  chmodSync(".dev.vars", 0o600);
  return key;
}

/**
 * Makes sure the local catalog holds the default org and the admin key from .dev.vars (every scope), as
 * POST /api/orgs would have made them. Run after the migrations; changes nothing when they are there.
 */
export function seedDevOrg(apiKey) {
  const hash = createHash("sha256").update(apiKey).digest("hex");
  const sql = [
    `INSERT OR IGNORE INTO orgs (org_id, name) VALUES ('${DEV_ORG_ID}', 'default');`,
    `INSERT OR IGNORE INTO api_keys (key_id, org_id, key_hash, name, prefix) VALUES ('${DEV_KEY_ID}-${hash.slice(0, 8)}', '${DEV_ORG_ID}', '${hash}', 'local admin (.dev.vars WINKY_API_KEY)', '${apiKey.slice(0, 10)}');`,
  ].join(" ");
  const r = spawnSync("npx", ["wrangler", "d1", "execute", "DB", "--local", "--command", sql], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, CI: "true" },
  });
  if (r.status !== 0) throw new Error("seeding the local org and its admin key failed");
}

const hasBubblewrap = () => spawnSync("sh", ["-c", "command -v bwrap"]).status === 0;

/** What is missing for a full local stack, said once at startup; everything else still runs without it. */
export function warnMissing() {
  const vars = existsSync(".dev.vars") ? readFileSync(".dev.vars", "utf8") : "";
  const missing = [];
  if (!hasBubblewrap()) missing.push("bwrap not found: sandbox runs will answer 503 until bubblewrap is installed (apt-get install bubblewrap)");
  // wrangler dev gives the Worker .dev.vars, not this process's environment, so that is where the key must be.
  if (!/^ANTHROPIC_API_KEY=\S/m.test(vars)) missing.push("ANTHROPIC_API_KEY is not set in .dev.vars: generation answers 503 model_unavailable; dryRun works");
  for (const line of missing) console.warn(`warning: ${line}`);
}

/**
 * Waits until the server's /health answers (200 or 503), then prints every check that is not ok.
 * Returns the report, or undefined when nothing answered within `timeoutMs`.
 */
export async function reportHealth(base, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let report;
  while (report === undefined) {
    try {
      const res = await fetch(`${base}/health`);
      if (res.status === 200 || res.status === 503) report = await res.json();
    } catch {
      // not listening yet
    }
    if (report === undefined) {
      if (Date.now() > deadline) return undefined;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const failing = Object.entries(report.checks ?? {}).filter(([, check]) => !check.ok);
  for (const [name, check] of failing) {
    const { ok: _ok, ms, ...detail } = check;
    const extra = Object.entries(detail).map(([k, v]) => `${k} ${v}`);
    console.warn(`health: ${name} is not ok (${[...extra, `${ms} ms`].join(", ")})`);
  }
  if (failing.length === 0) console.log(`health: ${report.status}, every check ok`);
  else console.warn(`health: ${report.status} (GET ${base}/health for the whole report)`);
  return report;
}

/** The bubblewrap sandbox runner beside wrangler (see src/lib/sandbox/runner). */
export function startRunner() {
  const vars = readFileSync(".dev.vars", "utf8");
  const secret = /^SANDBOX_RUNNER_SECRET=(.+)$/m.exec(vars)?.[1]?.trim();
  const port = /^SANDBOX_RUNNER_URL=.*:(\d+)/m.exec(vars)?.[1] ?? "8790";
  if (!hasBubblewrap()) return undefined;
  return spawn(process.execPath, ["--import", "tsx", "src/lib/sandbox/runner/main.ts"], {
    stdio: "inherit",
    env: { ...process.env, SANDBOX_RUNNER_SECRET: secret, SANDBOX_RUNNER_PORT: port },
  });
}

export function applyMigrations() {
  const r = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local"], { stdio: "inherit", env: { ...process.env, CI: "true" } });
  if (r.status !== 0) throw new Error("applying D1 migrations failed");
}

export function startServer(port = process.env.PORT ?? "8787") {
  return spawn("npx", ["wrangler", "dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--show-interactive-dev-session=false"], {
    stdio: "inherit",
    env: process.env,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const key = ensureDevVars();
  warnMissing();
  applyMigrations();
  seedDevOrg(key);
  const runner = startRunner();
  // The console (http://127.0.0.1:PORT/) is rebuilt on every change; wrangler dev serves the new files.
  const consoleBuild = await watchConsole();
  const port = process.env.PORT ?? "8787";
  const child = startServer(port);
  for (const sig of ["SIGINT", "SIGTERM"])
    process.on(sig, () => {
      child.kill(sig);
      runner?.kill(sig);
      void consoleBuild.dispose();
    });
  child.on("exit", (code) => process.exit(code ?? 0));
  console.log(`the console: http://127.0.0.1:${port}/ (sign in with WINKY_API_KEY from .dev.vars)`);
  reportHealth(`http://127.0.0.1:${port}`).then((report) => {
    if (report === undefined) console.warn(`health: the server did not answer on port ${port} within 2 minutes`);
  });
}
