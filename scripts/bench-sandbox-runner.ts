/**
 * npm run bench:sandbox: the local runner's cancellation and install-cache costs, measured against a real
 * runner started here (root and bubblewrap needed, as for the sandbox tests). How long after its client
 * goes a run's processes are gone and the runner has let go of it; what writing a cache entry costs (copy,
 * size measured once with du) for a node_modules-like tree of many small files; what an eviction costs the
 * run that triggers it (the deletion itself happens in a child process). Writes its section of
 * docs/benchmarks.md.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CACHE_DIRS, InstallCache } from "../src/lib/sandbox/runner/install-cache";
import { startRunner } from "../src/lib/sandbox/runner/server";
import { writeSection } from "./benchmarks-doc";

const ROOT = "/tmp/winky-bench-runner";
const CANCELS = 10;
const ENTRY_FILES = 20_000;
const FILE_BYTES = 2048;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const ms = (x: number): string => `${x.toFixed(0)} ms`;

async function until(probe: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One run of `sleep 300`, its client gone once the command printed; ms until the runner lists no such run. */
async function cancelOnce(url: string, secret: string, n: number): Promise<number> {
  const runId = `run_bench_${n}_${randomBytes(4).toString("hex")}`;
  const client = new AbortController();
  const head = { type: "run", runId, commands: ["echo started; sleep 300"], limits: { wallSeconds: 600, workspaceMb: 64 } };
  const body = [head, { type: "files", files: [{ path: "a.txt", content: "a\n" }] }, { type: "end", files: 1 }].map((l) => `${JSON.stringify(l)}\n`).join("");
  const res = await fetch(`${url}/runs`, {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/x-ndjson" },
    body,
    signal: client.signal,
  });
  const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("started")) seen += (await reader.read()).value ?? "";
  const t0 = performance.now();
  client.abort();
  const auth = { authorization: `Bearer ${secret}` };
  await until(async () => {
    const listed = (await (await fetch(`${url}/runs`, { headers: auth })).json()) as { runs: { runId: string }[] };
    return !listed.runs.some((r) => r.runId === runId);
  });
  return performance.now() - t0;
}

/** A stage shaped like an install's: node_modules with `ENTRY_FILES` small files in nested packages. */
async function makeStage(dir: string): Promise<void> {
  for (const name of CACHE_DIRS) await mkdir(join(dir, name), { recursive: true });
  for (let p = 0; p < ENTRY_FILES / 20; p++) {
    const pkg = join(dir, "node_modules", `pkg-${p}`, "lib");
    await mkdir(pkg, { recursive: true });
    for (let f = 0; f < 20; f++) await writeFile(join(pkg, `f${f}.js`), randomBytes(FILE_BYTES / 2).toString("hex"));
  }
}

async function main(): Promise<void> {
  const secret = randomBytes(16).toString("hex");
  await rm(ROOT, { recursive: true, force: true });
  const runner = await startRunner({ port: 0, secret, root: ROOT, firstUid: 60_200, slots: 2 });
  const cancels: number[] = [];
  try {
    for (let i = 0; i < CANCELS; i++) cancels.push(await cancelOnce(runner.url, secret, i));
  } finally {
    await runner.close();
  }

  const cacheRoot = await mkdtemp("/tmp/winky-bench-cache-");
  const stage = await mkdtemp("/tmp/winky-bench-stage-");
  try {
    await makeStage(stage);
    // Two entries fit; the third written evicts the least recently used.
    const cache = new InstallCache(cacheRoot, 2.5 * ENTRY_FILES * 4096);
    const commits: number[] = [];
    const evictions: number[] = [];
    for (let i = 0; i < 5; i++) {
      const key = randomBytes(32).toString("hex");
      const { release } = await cache.acquire(key);
      const t0 = performance.now();
      await cache.commit(key, stage);
      commits.push(performance.now() - t0);
      const t1 = performance.now();
      await release();
      evictions.push(performance.now() - t1);
    }
    const entries = await cache.entries();
    const dus: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await promisify(execFile)("du", ["-s", "-B1", stage]);
      dus.push(performance.now() - t0);
    }
    const date = new Date().toISOString().slice(0, 10);
    writeSection("bench:sandbox-runner", [
      "## Sandbox runner: cancellation and install cache (issue 15)",
      "",
      `Measured ${date} on ${cpus()[0]?.model.trim() ?? "?"}, ${cpus().length} cores, ${Math.round(totalmem() / 1024 ** 3)} GiB, Node ${process.version}, the runner started in-process (\`npm run bench:sandbox\`), ext4 on virtio disk.`,
      "",
      "| measure | result |",
      "| --- | --- |",
      `| client gone → run's processes killed, workspace deleted, run off the runner's list (\`sleep 300\`, ${CANCELS} runs) | median ${ms(median(cancels))}, max ${ms(Math.max(...cancels))} |`,
      `| writing a cache entry of ${ENTRY_FILES.toLocaleString("en")} files (${((ENTRY_FILES * FILE_BYTES) / 1024 ** 2).toFixed(0)} MiB of content, ${((entries[0]?.bytes ?? 0) / 1024 ** 2).toFixed(0)} MiB on disk): copy, chmod, size by du, rename | median ${ms(median(commits))} |`,
      `| of which measuring its size (du of the same tree, page cache warm) | median ${ms(median(dus))} |`,
      `| a run letting go of its entry, with an eviction each time (rename; deletion in a child process) | median ${ms(median(evictions))} |`,
      `| entries kept under a bound of 2.5 entries | ${entries.length} |`,
      "",
    ]);
  } finally {
    await rm(cacheRoot, { recursive: true, force: true });
    await rm(stage, { recursive: true, force: true });
  }
}

await main();
