import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { writeSection } from "./benchmarks-doc";
import { buildCorpus } from "./corpus";
import { createProject, type LocalServer, startLocalServer, workerdRssMiB } from "./local-server";

const { values } = parseArgs({ options: { minutes: { type: "string", default: "5" }, repos: { type: "string", default: process.env.SOAK_REPOS ?? "" } } });
const minutes = Number(values.minutes);
const repos = (values.repos ?? "").split(",").filter(Boolean);
const STUCK_MS = 10 * 60_000;
const BUDGETS = [8_000, 13_000, 27_000, 50_000, 128_000, 500_000];

type Job = { status: string; stalledSince: string | null; tokens: number; batches: { done: number; total: number } };
const latencies = new Map<string, number[]>();
const errors = new Map<string, number>();
const memory: { at: number; mib: number }[] = [];
const stuck: unknown[] = [];

function note(op: string, ms: number): void {
  latencies.set(op, [...(latencies.get(op) ?? []), ms]);
}

async function timed<T>(server: LocalServer, op: string, path: string, init?: RequestInit): Promise<T | undefined> {
  const t0 = performance.now();
  const res = await fetch(`${server.base}${path}`, {
    ...init,
    headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${server.token}` },
  });
  const text = await res.text();
  note(op, performance.now() - t0);
  if (!res.ok) {
    const code = (() => {
      try {
        return (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? "?";
      } catch {
        return "?";
      }
    })();
    const key = `${op} ${res.status} ${code}`;
    errors.set(key, (errors.get(key) ?? 0) + 1);
    return undefined;
  }
  return JSON.parse(text) as T;
}

function bugReport(i: number, paths: string[]): string {
  const frames = paths.slice(i % Math.max(1, paths.length - 3), (i % Math.max(1, paths.length - 3)) + 3);
  const trace = frames.map((p, k) => `  File "${p}", line ${40 + k * 17}, in handler_${k}\n    result = process(value)`).join("\n");
  return `Traceback (most recent call last):\n${trace}\nTypeError: unsupported operand type(s) for +: 'NoneType' and 'int'\n\nSteps: run the command with an empty configuration and call process() twice. Expected a result, got the error above. ${"Environment and further observations from the reporter. ".repeat(20 + (i % 80))}`;
}

function sampleMemory(server: LocalServer): void {
  const mib = workerdRssMiB(server);
  if (mib !== undefined) memory.push({ at: Date.now(), mib });
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? 0;

async function main(): Promise<void> {
  const archives =
    repos.length > 0 ? repos.map((r) => ({ name: basename(r), bytes: readFileSync(r) })) : [{ name: "corpus-1M", bytes: buildCorpus(1_000_000).archive }];
  const server = await startLocalServer(Number(process.env.SOAK_PORT ?? 8796), ".soak/state");
  const started = Date.now();
  const end = started + minutes * 60_000;
  const ready: { projectId: string; paths: string[] }[] = [];
  let ingested = 0;
  let ingestedTokens = 0;
  const memTimer = setInterval(() => sampleMemory(server), 5_000);
  try {
    const ingestLoop = (async () => {
      for (let i = 0; Date.now() < end; i++) {
        const archive = archives[i % archives.length] as { name: string; bytes: Buffer };
        // Every third round re-ingests the project of the same archive instead of creating one.
        const again = i >= archives.length && i % 3 === 0 ? ready[i % archives.length] : undefined;
        const projectId = again?.projectId ?? (await createProject(server, archive.name));
        const up = await timed<{ jobId: string }>(server, "upload", `/api/projects/${projectId}/ingest`, {
          method: "POST",
          headers: { "content-type": "application/gzip" },
          body: archive.bytes,
        });
        if (!up) continue;
        const t0 = Date.now();
        for (;;) {
          const job = await timed<Job>(server, "job", `/api/jobs/${up.jobId}`);
          if (job && (job.status === "done" || job.status === "failed")) {
            note("ingest (upload to done)", Date.now() - t0);
            ingested++;
            ingestedTokens += job.tokens;
            if (!again) {
              const files = await timed<{ files: { path: string }[] }>(server, "files", `/api/projects/${projectId}/files?status=text&limit=200`);
              ready.push({ projectId, paths: (files?.files ?? []).map((f) => f.path).filter((p) => /\.(py|ts|js|go|rs|java)$/.test(p)) });
            }
            if (job.status === "failed") errors.set("ingest job failed", (errors.get("ingest job failed") ?? 0) + 1);
            break;
          }
          // A job the watchdog found stalled, or one past the limit, is reported once; the soak then moves on.
          if (job?.stalledSince || Date.now() - t0 > STUCK_MS) {
            stuck.push({ archive: archive.name, job });
            break;
          }
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    })();
    const assemblyLoops = [0, 1].map(async (lane) => {
      for (let i = lane; Date.now() < end; i += 2) {
        const p = ready[i % Math.max(1, ready.length)];
        if (!p) {
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        const budget = BUDGETS[i % BUDGETS.length] as number;
        await timed(server, `assemble ${budget / 1000}k`, "/api/context/assemble", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ projectId: p.projectId, prompt: bugReport(i, p.paths), budget }),
        });
      }
    });
    await Promise.all([ingestLoop, ...assemblyLoops]);
  } finally {
    clearInterval(memTimer);
    server.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  const rows = [...latencies.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([op, xs]) =>
        `| ${op} | ${xs.length} | ${(xs.length / seconds).toFixed(2)}/s | ${pct(xs, 50).toFixed(0)} | ${pct(xs, 95).toFixed(0)} | ${pct(xs, 99).toFixed(0)} |`,
    );
  const mem = memory.map((m) => m.mib);
  const fivexx = [...errors.keys()].filter((k) => / 5\d\d /.test(k));
  writeSection("soak", [
    "## Soak (`npm run soak`)",
    "",
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}, through \`wrangler dev\`: ${minutes} minutes of ${archives.map((a) => `\`${a.name}\``).join(", ")} ingested one after another (every third round a re-ingest), with two lanes of bug-report assemblies (1.5–5 kB tracebacks and prose) at budgets 8k–500k beside them.`,
    "",
    `Ingests: ${ingested} (${ingestedTokens.toLocaleString("en-US")} tokens). Stuck jobs: ${stuck.length}. Errors: ${errors.size === 0 ? "none" : [...errors.entries()].map(([k, n]) => `${k} × ${n}`).join("; ")}. workerd RSS: min ${Math.min(...mem).toFixed(0)}, max ${Math.max(...mem).toFixed(0)}, last ${(mem.at(-1) ?? 0).toFixed(0)} MiB (${mem.length} samples).`,
    "",
    "| operation | count | rate | p50 ms | p95 ms | p99 ms |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
  ]);
  if (stuck.length > 0) console.error(JSON.stringify(stuck, null, 2));
  process.exitCode = stuck.length > 0 || fivexx.length > 0 ? 1 : 0;
}

await main();
