/**
 * npm run bench (sandbox part): time to a ready workspace for a 10M-token project through the real local server
 * (wrangler dev: workerd, D1, R2) and the bubblewrap runner. The project is the bench corpus (scripts/corpus.ts)
 * plus binary fixtures and an executable check; a run streams its events, and the workspace is ready when the
 * runner's first event arrives (it writes the whole tree, links and modes before it starts a command). Writes its
 * section of docs/benchmarks.md.
 */
import { createHash, randomBytes } from "node:crypto";
import { cpus, totalmem } from "node:os";
import { gzipSync } from "node:zlib";
import { type TarFile, writeTar } from "../src/lib/archive";
import { startRunner } from "../src/lib/sandbox/runner/server";
import { writeSection } from "./benchmarks-doc";
import { buildCorpus } from "./corpus";
import { createProject, ingestArchive, type LocalServer, liftQuotas, startLocalServer } from "./local-server";

const PORT = Number(process.env.BENCH_PORT ?? 8797);
const RUNS = 3;
// Binary fixtures beside the text: 24 files of 256 KiB (6 MiB) of random bytes, NULs included.
const BINARIES = 24;
const BINARY_BYTES = 256 * 1024;

type Summary = { status?: string; runId?: string; results?: { stdout: string }[]; error?: unknown };
type Timed = { readyMs: number; totalMs: number; status: string; runId: string; summary: Summary };

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const secs = (ms: number): string => (ms / 1000).toFixed(2);

/** One run (or replay), streamed: when the first runner event came (the workspace is written) and when it ended. */
async function timedRun(server: LocalServer, path: string, body: unknown): Promise<Timed> {
  const t0 = performance.now();
  const res = await fetch(`${server.base}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json", accept: "application/x-ndjson" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10 * 60_000),
  });
  if (!res.ok || !res.body) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  let readyMs: number | null = null;
  let buffered = "";
  let summary: Summary | undefined;
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines.filter((l) => l.trim() !== "")) {
      const event = JSON.parse(line) as Summary & { type: string };
      readyMs ??= performance.now() - t0;
      if (event.type === "summary" || event.type === "error") summary = event;
    }
  }
  const totalMs = performance.now() - t0;
  if (!summary?.status || !summary.runId) throw new Error(`${path} ended without a summary: ${JSON.stringify(summary)}`);
  return { readyMs: readyMs ?? totalMs, totalMs, status: summary.status, runId: summary.runId, summary };
}

async function main(): Promise<void> {
  console.log("building the 10M-token corpus…");
  const corpus = buildCorpus(10_000_000);
  const binaries = Array.from({ length: BINARIES }, (_, i) => ({ path: `fixtures/blob-${String(i).padStart(2, "0")}.bin`, bytes: randomBytes(BINARY_BYTES) }));
  // Prints how many files the workspace holds (the corpus's files that ingestion keeps: its default ignores apply).
  const check = ["#!/bin/sh", "set -e", "sha256sum --quiet -c fixtures/SHA256SUMS", "find . -type f | wc -l", ""].join("\n");
  const sums = binaries.map((b) => `${createHash("sha256").update(b.bytes).digest("hex")}  ${b.path}`).join("\n");
  const files: TarFile[] = [
    ...corpus.files.map((f) => ({ path: f.path, bytes: Buffer.from(f.text) })),
    ...binaries,
    { path: "fixtures/SHA256SUMS", bytes: Buffer.from(`${sums}\n`) },
    { path: "check.sh", bytes: Buffer.from(check), mode: 0o755 },
  ];
  const archive = gzipSync(writeTar(files));
  const binaryBytes = BINARIES * BINARY_BYTES;

  const secret = randomBytes(24).toString("hex");
  const runner = await startRunner({ port: 0, secret, root: "/tmp/winky-bench-runs" });
  const server = await startLocalServer(PORT, ".bench/sandbox-state", { vars: { SANDBOX_RUNNER_URL: runner.url, SANDBOX_RUNNER_SECRET: secret } });
  try {
    await liftQuotas(server);
    const projectId = await createProject(server, "bench-sandbox-10m");
    console.log("ingesting…");
    const ingest = await ingestArchive(server, projectId, archive);
    if (ingest.job.status !== "done") throw new Error(`the ingest ended ${ingest.job.status}: ${JSON.stringify(ingest.job.errors)}`);
    console.log(`ingested in ${secs(ingest.ms)} s`);
    const runs: Timed[] = [];
    const replays: Timed[] = [];
    for (let i = 0; i < RUNS; i++) {
      const run = await timedRun(server, "/api/sandbox/runs", { projectId, commands: ["./check.sh"] });
      if (run.status !== "passed") throw new Error(`run ${run.runId} ended ${run.status}: ${JSON.stringify(run.summary).slice(0, 4000)}`);
      runs.push(run);
      const replay = await timedRun(server, `/api/sandbox/runs/${run.runId}/replay`, {});
      if (replay.status !== "passed") throw new Error(`replay ${replay.runId} ended ${replay.status}: ${JSON.stringify(replay.summary).slice(0, 4000)}`);
      replays.push(replay);
      console.log(
        `run ${i + 1}: ready ${secs(run.readyMs)} s, done ${secs(run.totalMs)} s; replay ready ${secs(replay.readyMs)} s, done ${secs(replay.totalMs)} s`,
      );
    }
    const list = (xs: Timed[], f: (t: Timed) => number): string => xs.map((t) => secs(f(t))).join(", ");
    const lines = [
      "## Sandbox: a 10M-token project's workspace (issue 15 item 1, `scripts/bench-sandbox.ts`)",
      "",
      `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, through \`wrangler dev --local\` (workerd, local D1 and R2) and the bubblewrap runner (workspace: ${runner.limits.workspace}) on loopback. ${process.env.BENCH_NOTE ?? ""}`.trimEnd(),
      "",
      `Project: the bench corpus (scripts/corpus.ts: directories the default ignore list leaves out, such as \`dist/\`, renamed so every file is kept), ${corpus.files.length} source files, ${(corpus.bytes / 2 ** 20).toFixed(1)} MiB, **${corpus.tokens.toLocaleString("en-US")} cl100k_base tokens**, plus ${BINARIES} binary files of ${BINARY_BYTES / 1024} KiB (${(binaryBytes / 2 ** 20).toFixed(0)} MiB, kept in R2 as blobs) and an executable \`check.sh\` that verifies them with \`sha256sum -c\` and counts the files (run as \`./check.sh\`): ${runs[0]?.summary.results?.[0]?.stdout.trim()} files in the workspace. Ingested in ${secs(ingest.ms)} s.`,
      "",
      "A run's input is the snapshot id plus the change; the Worker streams the snapshot to the runner in bounded batches (200 files or 4 MiB, binary files as base64). *Ready* is the time from sending `POST /api/sandbox/runs` (NDJSON events) until the runner's first event, which it sends only once every file, mode and link is written and the workspace is handed to the run's uid; *done* adds the check and the end of the run. The replay reads the same snapshot again.",
      "",
      "| measure | median | runs |",
      "| --- | --- | --- |",
      `| run: workspace ready | ${secs(median(runs.map((t) => t.readyMs)))} s | ${list(runs, (t) => t.readyMs)} |`,
      `| run: done | ${secs(median(runs.map((t) => t.totalMs)))} s | ${list(runs, (t) => t.totalMs)} |`,
      `| replay: workspace ready | ${secs(median(replays.map((t) => t.readyMs)))} s | ${list(replays, (t) => t.readyMs)} |`,
      `| replay: done | ${secs(median(replays.map((t) => t.totalMs)))} s | ${list(replays, (t) => t.totalMs)} |`,
    ];
    writeSection("bench:sandbox-workspace", lines);
  } finally {
    server.stop();
    await runner.close();
  }
}

await main();
