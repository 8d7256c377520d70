// npm run dev: make sure .dev.vars has an API token, apply D1 migrations locally, then serve the
// Worker with wrangler on PORT (default 8787). Everything runs locally; no Cloudflare account needed.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export function ensureDevVars() {
  const current = existsSync(".dev.vars") ? readFileSync(".dev.vars", "utf8") : "";
  const found = /^WINKY_API_TOKEN=(.+)$/m.exec(current);
  if (found) return found[1].trim();
  const token = `wk_local_${randomBytes(24).toString("hex")}`;
  writeFileSync(".dev.vars", `${current}${current && !current.endsWith("\n") ? "\n" : ""}WINKY_API_TOKEN=${token}\n`);
  console.log("created .dev.vars with a new WINKY_API_TOKEN");
  return token;
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
  const child = startServer();
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
  child.on("exit", (code) => process.exit(code ?? 0));
}
