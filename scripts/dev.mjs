// npm run dev: make sure .dev.vars has an API token and the sandbox runner's URL and secret, apply D1
// migrations locally, start the sandbox runner, then serve the Worker with wrangler on PORT (default 8787).
// Everything runs locally; no Cloudflare account needed.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

/** A value from .dev.vars, created (random, or `fallback`) and saved if missing. */
function devVar(name, make) {
  const current = existsSync(".dev.vars") ? readFileSync(".dev.vars", "utf8") : "";
  const found = new RegExp(`^${name}=(.+)$`, "m").exec(current);
  if (found) return found[1].trim();
  const value = make();
  writeFileSync(".dev.vars", `${current}${current && !current.endsWith("\n") ? "\n" : ""}${name}=${value}\n`);
  console.log(`added ${name} to .dev.vars`);
  return value;
}

export function ensureDevVars() {
  devVar("SANDBOX_RUNNER_SECRET", () => randomBytes(24).toString("hex"));
  devVar("SANDBOX_RUNNER_URL", () => `http://127.0.0.1:${process.env.SANDBOX_RUNNER_PORT ?? "8790"}`);
  return devVar("WINKY_API_TOKEN", () => `wk_local_${randomBytes(24).toString("hex")}`);
}

/** The bubblewrap sandbox runner beside wrangler (see src/lib/sandbox/runner). */
export function startRunner() {
  const vars = readFileSync(".dev.vars", "utf8");
  const secret = /^SANDBOX_RUNNER_SECRET=(.+)$/m.exec(vars)?.[1]?.trim();
  const port = /^SANDBOX_RUNNER_URL=.*:(\d+)/m.exec(vars)?.[1] ?? "8790";
  if (spawnSync("sh", ["-c", "command -v bwrap"]).status !== 0) {
    console.warn("bubblewrap is not installed: sandbox runs will answer 503 (run scripts/install-system-deps.sh)");
    return undefined;
  }
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
  ensureDevVars();
  applyMigrations();
  const runner = startRunner();
  const child = startServer();
  for (const sig of ["SIGINT", "SIGTERM"])
    process.on(sig, () => {
      child.kill(sig);
      runner?.kill(sig);
    });
  child.on("exit", (code) => process.exit(code ?? 0));
}
