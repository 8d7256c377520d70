/** Markdown for docs/benchmarks.md: the machine, latency per operation, errors, memory over time, stuck jobs. */
import { cpus, totalmem } from "node:os";
import type { StuckJob } from "./api";
import type { MemorySample } from "./memory";
import { percentile, type Recorder } from "./recorder";

export function machineLine(): string {
  return `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${cpus().length} cores (${cpus()[0]?.model.trim() ?? "?"}), ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, Node ${process.version}`;
}

export function latencyTable(rec: Recorder, seconds: number, only?: (op: string) => boolean): string[] {
  const rows = [...rec.latencies.entries()]
    .filter(([op]) => only?.(op) ?? true)
    .sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }))
    .map(([op, samples]) => {
      const xs = samples.map((s) => s.ms);
      const f = (p: number) => percentile(xs, p).toFixed(0);
      return `| ${op} | ${xs.length} | ${(xs.length / seconds).toFixed(2)}/s | ${f(50)} | ${f(95)} | ${f(99)} | ${Math.max(...xs).toFixed(0)} |`;
    });
  return ["| operation | count | throughput | p50 ms | p95 ms | p99 ms | max ms |", "| --- | --- | --- | --- | --- | --- | --- |", ...rows];
}

export function errorLines(rec: Recorder): string[] {
  if (rec.errors.size === 0) return ["Errors: none."];
  return [
    "| error (operation, HTTP status, code) | count |",
    "| --- | --- |",
    ...[...rec.errors.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `| ${k} | ${n} |`),
  ];
}

/** Min, max and last of each series, and one row per `rowEveryMs` so growth shows. */
export function memoryLines(samples: MemorySample[], rowEveryMs: number): string[] {
  if (samples.length === 0) return ["Memory: no samples (the server's process group was not found)."];
  const t0 = samples[0]?.at ?? 0;
  const series = (f: (s: MemorySample) => number) => {
    const xs = samples.map(f);
    return `${Math.min(...xs).toFixed(0)} / ${Math.max(...xs).toFixed(0)} / ${(xs.at(-1) ?? 0).toFixed(0)}`;
  };
  const rows: string[] = [];
  let next = t0;
  for (const s of samples) {
    if (s.at < next && s !== samples.at(-1)) continue;
    rows.push(`| ${((s.at - t0) / 60_000).toFixed(1)} | ${s.workerdMiB.toFixed(0)} | ${s.wranglerMiB.toFixed(0)} | ${s.soakMiB.toFixed(0)} |`);
    next = s.at + rowEveryMs;
  }
  return [
    `Resident memory (MiB, min / max / last over ${samples.length} samples every 5 s): workerd ${series((s) => s.workerdMiB)}; wrangler's other processes ${series((s) => s.wranglerMiB)}; the soak process with the fakes and the sandbox runner ${series((s) => s.soakMiB)}.`,
    "",
    "| minute | workerd | wrangler (node, esbuild) | soak + fakes + runner |",
    "| --- | --- | --- | --- |",
    ...rows,
  ];
}

export function stuckLines(stuck: StuckJob[]): string[] {
  if (stuck.length === 0) return ["Stuck jobs: none (no job with `stalledSince`, none over the limit)."];
  return [
    `Stuck jobs: ${stuck.length}.`,
    "",
    ...stuck.flatMap((s) => [
      `- ${s.label}: ${s.reason} (seen ${s.seenAt}); final status ${s.final?.status ?? s.job?.status ?? "?"}`,
      "",
      "```json",
      JSON.stringify(s.final ?? s.job ?? null),
      "```",
    ]),
  ];
}
