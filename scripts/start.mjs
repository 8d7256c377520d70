// npm start: the local stack plus a first ingest, so a newcomer sees it work. It says what is missing,
// starts the server (scripts/dev.mjs), waits for /health and prints any check that is not ok, ingests this
// repository's own source with the CLI, prints the summary, and keeps serving until Ctrl-C.
import { spawnSync } from "node:child_process";
import { buildConsole } from "./build-console.mjs";
import { applyMigrations, ensureDevVars, reportHealth, seedDevOrg, startRunner, startServer, warnMissing } from "./dev.mjs";

const port = process.env.PORT ?? "8787";
const base = `http://127.0.0.1:${port}`;
const token = ensureDevVars();
warnMissing();
applyMigrations();
seedDevOrg(token);
const runner = startRunner();
await buildConsole();
const server = startServer(port);
for (const sig of ["SIGINT", "SIGTERM"])
  process.on(sig, () => {
    server.kill(sig);
    runner?.kill(sig);
  });
server.on("exit", (code) => process.exit(code ?? 0));

const report = await reportHealth(base);
if (report === undefined) {
  console.error(`the server did not answer on ${base}/health within 2 minutes`);
  server.kill("SIGTERM");
  runner?.kill("SIGTERM");
  process.exit(1);
}
if (!report.ok) {
  // The catalog or the chunk store does not answer: an ingest cannot work, but the server stays up to look at.
  console.error("\nthe catalog (D1) or the chunk store (R2) does not answer: skipping the sample ingest; Ctrl-C stops the server.");
} else {
  console.log(`\nserver ready on ${base}; ingesting this repository as a sample project\n`);
  const ingest = spawnSync(process.execPath, ["bin/winky.mjs", "ingest", ".", "--name", "winky-context (sample)"], {
    stdio: "inherit",
    env: { ...process.env, WINKY_SERVER: base, WINKY_API_KEY: token },
  });
  console.log(
    ingest.status === 0
      ? `\nsample ingested. Open the console at ${base}/ and sign in with WINKY_API_KEY from .dev.vars, or try:\n  curl -H "Authorization: Bearer $(grep WINKY_API_KEY .dev.vars | cut -d= -f2)" ${base}/api/projects/<projectId>/files\nCtrl-C stops the server.`
      : "\nthe sample ingest failed; the server keeps running so you can look (Ctrl-C stops it).",
  );
}
