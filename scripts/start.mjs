// npm start: the local stack plus a first ingest, so a newcomer sees it work. It starts the server
// (scripts/dev.mjs), waits for /health, ingests this repository's own source with the CLI, prints the
// summary, and keeps serving until Ctrl-C.
import { spawnSync } from "node:child_process";
import { applyMigrations, ensureDevVars, startRunner, startServer } from "./dev.mjs";

const port = process.env.PORT ?? "8787";
const base = `http://127.0.0.1:${port}`;
const token = ensureDevVars();
applyMigrations();
const runner = startRunner();
const server = startServer(port);
for (const sig of ["SIGINT", "SIGTERM"])
  process.on(sig, () => {
    server.kill(sig);
    runner?.kill(sig);
  });
server.on("exit", (code) => process.exit(code ?? 0));

const deadline = Date.now() + 120_000;
for (;;) {
  try {
    if ((await fetch(`${base}/health`)).ok) break;
  } catch {
    // not listening yet
  }
  if (Date.now() > deadline) {
    console.error(`the server did not answer on ${base}/health within 2 minutes`);
    server.kill("SIGTERM");
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 500));
}

console.log(`\nserver ready on ${base}; ingesting this repository as a sample project\n`);
const ingest = spawnSync(process.execPath, ["bin/winky.mjs", "ingest", ".", "--name", "winky-context (sample)"], {
  stdio: "inherit",
  env: { ...process.env, WINKY_SERVER: base, WINKY_API_TOKEN: token },
});
console.log(
  ingest.status === 0
    ? `\nsample ingested. Try:\n  curl -H "Authorization: Bearer $(grep WINKY_API_TOKEN .dev.vars | cut -d= -f2)" ${base}/api/projects/<projectId>/files\nCtrl-C stops the server.`
    : "\nthe sample ingest failed; the server keeps running so you can look (Ctrl-C stops it).",
);
