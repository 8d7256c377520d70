/**
 * npm run soak -- --minutes N [--repos a.tar.gz,b.tar.gz] [--concurrency]: a bounded soak of a private local
 * stack (wrangler dev with fresh state, the fake git host and Messages API, the bubblewrap runner). Writes
 * its section of docs/benchmarks.md; exits 1 on a stuck job, a 5xx or a failed check.
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { writeSection } from "./benchmarks-doc";
import { buildCorpus } from "./corpus";
import type { Ctx, StuckJob } from "./soak/api";
import { runConcurrency } from "./soak/concurrency";
import { sampleMemory } from "./soak/memory";
import { Recorder } from "./soak/recorder";
import { errorLines, latencyTable, machineLine, memoryLines, stuckLines } from "./soak/report";
import { startStack } from "./soak/stack";
import { type Archive, assemblyLanes, healthLane, ingestLane, type Shared, sandboxLane, sessionLane, webhookLane } from "./soak/workloads";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "5" },
    repos: { type: "string", default: process.env.SOAK_REPOS ?? "" },
    concurrency: { type: "boolean", default: false },
    "stuck-minutes": { type: "string", default: "10" },
    "assembly-lanes": { type: "string", default: "3" },
    rate: { type: "string", default: "50" },
    port: { type: "string", default: process.env.SOAK_PORT ?? "8796" },
    seed: { type: "string", default: "20261122" },
  },
});
const minutes = Number(values.minutes);
const stuckMinutes = Number(values["stuck-minutes"]);
const seed = Number(values.seed);
if (!(minutes > 0 && minutes <= 24 * 60)) throw new Error("--minutes must be between 0 and 1440");
if (!(stuckMinutes > 0)) throw new Error("--stuck-minutes must be positive");
const repos = (values.repos ?? "").split(",").filter(Boolean);
const archives: Archive[] =
  repos.length > 0
    ? repos.map((r) => ({ name: basename(r).replace(/\.tar\.gz$/, ""), bytes: readFileSync(r) }))
    : [{ name: "corpus-1M", bytes: buildCorpus(1_000_000).archive }];

const LOG = ".soak/soak.log";
function log(line: string): void {
  const stamped = `${new Date().toISOString()} ${line}`;
  console.log(stamped);
  appendFileSync(LOG, `${stamped}\n`);
}

async function main(): Promise<number> {
  const stack = await startStack(Number(values.port));
  writeFileSync(LOG, "");
  log(
    `stack up: server ${stack.server.base}, git host ${stack.gitHost}, messages ${stack.messages}, runner ${stack.runner}; wrangler output in .soak/wrangler-*.log`,
  );
  const rec = new Recorder(stack.server);
  const stuck: StuckJob[] = [];
  const started = Date.now();
  const memory = sampleMemory(stack.server.pgid, 5_000);
  let lines: string[];
  let failed: string[] = [];
  try {
    if (values.concurrency) {
      // Bounded by the stuck limit per job, and by the hard end for the whole scenario.
      const ctx: Ctx = { rec, server: stack.server, end: Number.POSITIVE_INFINITY, hardEnd: started + 60 * 60_000, stuckMs: stuckMinutes * 60_000, stuck, log };
      const r = await runConcurrency(ctx, archives, Number(values.rate), seed);
      const seconds = (Date.now() - started) / 1000;
      failed = r.checks.filter((c) => !c.ok).map((c) => c.name);
      lines = [
        "## Concurrency (`npm run soak -- --concurrency`)",
        "",
        `Measured ${machineLine()}, through \`wrangler dev --local\` on loopback with the fake git host, Messages API and the bubblewrap runner. Trees (\`git archive\` of public repositories): ${archives.map((a) => `\`${a.name}\` (${(a.bytes.length / 1024 ** 2).toFixed(1)} MiB)`).join(", ")}. Each tree was first ingested alone into its own project (the clean reference). Then 8 uploads into 8 new projects (trees in turn) and 4 uploads of the other trees into one project already holding \`${archives[0]?.name}\` were started at once, with assemblies (1–4 kB bug reports, budgets 8k/13k/27k, at most 16 in flight) aimed at ${values.rate}/s against the reference projects until every job ended.`,
        "",
        "| | assemblies | achieved rate | p95 |",
        "| --- | --- | --- | --- |",
        `| quiet (30 s before the load) | ${r.quiet.count} | ${r.quiet.rate.toFixed(1)}/s | ${r.quiet.p95.toFixed(0)} ms |`,
        `| beside the 12 ingests (${r.loadSeconds.toFixed(0)} s) | ${r.loaded.count} | ${r.loaded.rate.toFixed(1)}/s (${r.loaded.skipped} ticks skipped with 16 in flight) | ${r.loaded.p95.toFixed(0)} ms |`,
        "",
        "| check | result | detail |",
        "| --- | --- | --- |",
        ...r.checks.map((c) => `| ${c.name} | ${c.ok ? "ok" : "**FAILED**"} | ${c.detail.replaceAll("|", "\\|")} |`),
        "",
        `Re-ingest jobs of the one project, by creation time: ${r.order.join("; ")}.`,
        "",
        ...latencyTable(rec, seconds),
        "",
        ...errorLines(rec),
        "",
        ...memoryLines(memory.samples, 60_000),
        "",
        ...stuckLines(stuck),
      ];
    } else {
      const end = started + minutes * 60_000;
      const ctx: Ctx = { rec, server: stack.server, end, hardEnd: end + stuckMinutes * 60_000, stuckMs: stuckMinutes * 60_000, stuck, log };
      const shared: Shared = { ready: [], pushed: undefined, ingests: 0, tokens: 0, pushes: 0 };
      await Promise.all([
        ingestLane(ctx, archives, shared),
        assemblyLanes(ctx, shared, Number(values["assembly-lanes"]), seed),
        webhookLane(ctx, stack.gitHost, shared, 15_000),
        sandboxLane(ctx, shared, 20_000),
        sessionLane(ctx, stack.messages, shared, 10_000, seed + 100),
        healthLane(ctx),
      ]);
      const seconds = (Date.now() - started) / 1000;
      lines = [
        "## Soak (`npm run soak`)",
        "",
        `Measured ${machineLine()}, through \`wrangler dev --local\` on loopback with the fake git host, Messages API and the bubblewrap runner: ${minutes} minutes (${(seconds / 60).toFixed(1)} with the drain) of ${archives.map((a) => `\`${a.name}\` (${(a.bytes.length / 1024 ** 2).toFixed(1)} MiB)`).join(", ")} (\`git archive\` .tar.gz) ingested one after another into new projects (every third round after the first pass re-ingests one), beside ${values["assembly-lanes"]} lanes of bug-report assemblies (1–25 kB: tracebacks through the projects' own functions, errors, steps, logs) at budgets 8k/13k/27k/50k/128k/500k, a webhook push every 15 s (3 files added, 2 modified, 1 removed; the project then checked against the pushed tree), a sandbox run every 20 s, and a session every 10 s (a generation with the fake model, a session assembly).`,
        "",
        `Ingests finished: ${shared.ingests} (${shared.tokens.toLocaleString("en-US")} tokens); pushes finished: ${shared.pushes}; projects assembled against: ${shared.ready.length}.`,
        "",
        ...latencyTable(rec, seconds),
        "",
        ...errorLines(rec),
        "",
        ...memoryLines(memory.samples, 60_000 * Math.max(1, Math.round(minutes / 15))),
        "",
        ...stuckLines(stuck),
      ];
    }
  } finally {
    memory.stop();
    await stack.stop();
  }
  const fiveXX = rec.serverErrors;
  if (fiveXX.length > 0) {
    lines.push("", `5xx answers: ${fiveXX.length}; the first: \`${JSON.stringify(fiveXX[0]).replaceAll("`", "'")}\``);
    writeFileSync(".soak/5xx.json", JSON.stringify(fiveXX, null, 2));
  }
  writeSection(values.concurrency ? "concurrency" : "soak", lines);
  writeFileSync(".soak/stuck.json", JSON.stringify(stuck, null, 2));
  const problems = [
    ...failed.map((f) => `check failed: ${f}`),
    ...(stuck.length > 0 ? [`${stuck.length} stuck job(s), .soak/stuck.json`] : []),
    ...(fiveXX.length > 0 ? [`${fiveXX.length} 5xx answer(s), .soak/5xx.json`] : []),
  ];
  for (const p of problems) console.error(p);
  return problems.length > 0 ? 1 : 0;
}

// Exit explicitly: keep-alive sockets to the fakes must not keep a finished soak running.
process.exit(await main());
