/**
 * npm run bench:upload — real repositories in: a codebase of about 10M tokens assembled from several
 * public repositories (given as `git archive` .tar.gz files), ingested end to end through the CLI's
 * packer and upload path; a multipart upload of more than 200 MB (the same tree plus binary assets);
 * and the deletion of a 1M-token project, timed until its job reports nothing left. Measures wall time
 * from the client and the peak resident memory of the local server's processes (workerd).
 *
 *   npm run bench:upload -- repo1.tar.gz repo2.tar.gz ...   (or BENCH_REPOS=a.tar.gz,b.tar.gz)
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, openAsBlob, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { basename, dirname, join } from "node:path";
import { packDirectory } from "../cli/pack-directory";
import { WinkyClient } from "../src/client";
import { writeSection } from "./benchmarks-doc";
import { buildCorpus } from "./corpus";
import { createProject, ingestArchive, type LocalServer, startLocalServer, workerdRssMiB } from "./local-server";

type Job = { status: string; tokens: number; files: { total: number }; outcomes: Record<string, unknown>; skipped: unknown[]; errors: unknown[] };

const PORT = Number(process.env.BENCH_PORT ?? 8798);
const MiB = 1024 * 1024;

/** Peak summed RSS of the server's process group, sampled every 250 ms while `fn` runs. */
async function withPeakRss<T>(server: LocalServer, fn: () => Promise<T>): Promise<{ value: T; peakMiB: number; ms: number }> {
  let peak = 0;
  const sample = (): void => {
    peak = Math.max(peak, workerdRssMiB(server) ?? 0);
  };
  const timer = setInterval(sample, 250);
  const t0 = performance.now();
  try {
    const value = await fn();
    return { value, peakMiB: peak, ms: performance.now() - t0 };
  } finally {
    clearInterval(timer);
  }
}

async function waitJob(server: LocalServer, jobId: string): Promise<Job> {
  for (;;) {
    const job = await server.call<Job>(`/api/jobs/${jobId}`);
    if (job.status === "done" || job.status === "failed") return job;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Uploads the tree at `dir` through the CLI's packer and upload path, and waits for the job. */
async function ingestTree(server: LocalServer, dir: string, threshold?: number) {
  const packed = await packDirectory(dir);
  const projectId = await createProject(server, basename(dir));
  const t0 = performance.now();
  const client = new WinkyClient({ server: server.base, apiKey: server.token });
  const up = await client.uploads.upload(projectId, await openAsBlob(packed.path), threshold === undefined ? {} : { threshold });
  const uploadMs = performance.now() - t0;
  const job = await waitJob(server, up.jobId);
  rmSync(dirname(packed.path), { recursive: true, force: true });
  return { projectId, packed, job, uploadMs, multipart: up.multipart };
}

async function main(): Promise<void> {
  const repos = process.argv.slice(2).length > 0 ? process.argv.slice(2) : (process.env.BENCH_REPOS ?? "").split(",").filter(Boolean);
  if (repos.length === 0) {
    console.log(
      "bench:upload skipped: name the repositories (`git archive` .tar.gz files) with BENCH_REPOS=a.tar.gz,b.tar.gz or npm run bench:upload -- a.tar.gz b.tar.gz",
    );
    return;
  }
  const tree = mkdtempSync(join(tmpdir(), "winky-bench-tree-"));
  for (const r of repos) {
    const into = join(tree, basename(r).replace(/\.tar\.gz$|\.tgz$/, ""));
    mkdirSync(into);
    execFileSync("tar", ["-xzf", r, "-C", into]);
  }
  const server = await startLocalServer(PORT, ".bench/upload-state");
  const lines: string[] = [];
  try {
    console.log(`ingesting ${repos.length} repositories as one codebase…`);
    const big = await withPeakRss(server, () => ingestTree(server, tree));
    const { job } = big.value;
    if (job.status !== "done") throw new Error(`the large ingest ended ${job.status}: ${JSON.stringify(job.errors).slice(0, 2000)}`);
    console.log(`large ingest: ${job.tokens} tokens in ${(big.ms / 1000).toFixed(1)} s, peak workerd RSS ${big.peakMiB.toFixed(0)} MiB`);

    // The same tree plus incompressible assets makes an archive past 200 MB, uploaded in parts.
    const assets = join(tree, "assets-bench");
    mkdirSync(assets);
    for (let i = 0; i < 24; i++) writeFileSync(join(assets, `texture-${i}.bin`), randomBytes(8 * MiB));
    const multi = await withPeakRss(server, () => ingestTree(server, tree, 0));
    if (multi.value.job.status !== "done" || !multi.value.multipart) throw new Error(`the multipart ingest ended ${multi.value.job.status}`);
    console.log(`multipart: ${(multi.value.packed.compressedBytes / MiB).toFixed(0)} MiB, upload ${(multi.value.uploadMs / 1000).toFixed(1)} s`);

    // Deleting a 1M-token project: time until its deletion job is done.
    const corpus = buildCorpus(1_000_000);
    const victim = await createProject(server, "delete-me");
    const ingested = await ingestArchive(server, victim, corpus.archive);
    const t0 = performance.now();
    const { jobId } = await server.call<{ jobId: string }>(`/api/projects/${victim}`, { method: "DELETE" });
    const deletion = await waitJob(server, jobId);
    const deleteMs = performance.now() - t0;
    if (deletion.status !== "done") throw new Error(`the deletion ended ${deletion.status}`);

    const fmt = (n: number): string => n.toLocaleString("en-US");
    lines.push(
      "## Real repositories in: large ingest, multipart upload, deletion (`npm run bench:upload`)",
      "",
      `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores (${cpus()[0]?.model ?? "unknown CPU"}), ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}, through \`wrangler dev\` (workerd, local D1/R2/Queues/Durable Objects), timed from the client. The codebase is ${repos.map((r) => `\`${basename(r)}\``).join(", ")} (\`git archive\` of their default branches) in one tree, packed and uploaded by the CLI's own code.`,
      "",
      "| measure | value |",
      "| --- | --- |",
      `| codebase | ${fmt(job.files.total)} files, ${fmt(job.tokens)} tokens, ${(big.value.packed.bytes / MiB).toFixed(0)} MiB of files, ${(big.value.packed.compressedBytes / MiB).toFixed(1)} MiB as .tar.gz |`,
      `| outcomes | ${JSON.stringify(job.outcomes)} |`,
      `| ingest end to end (pack excluded: upload, unpack, index) | ${(big.ms / 1000).toFixed(1)} s (upload ${(big.value.uploadMs / 1000).toFixed(1)} s, ${big.value.multipart ? "multipart" : "one request"}) |`,
      `| peak resident memory of workerd during it | ${big.peakMiB.toFixed(0)} MiB |`,
      `| multipart upload of ${(multi.value.packed.compressedBytes / MiB).toFixed(0)} MiB (16 MiB parts) | upload ${(multi.value.uploadMs / 1000).toFixed(1)} s, until the job is done ${(multi.ms / 1000).toFixed(1)} s, peak workerd RSS ${multi.peakMiB.toFixed(0)} MiB |`,
      `| delete a ${fmt(ingested.job.tokens)}-token project (${fmt(ingested.job.files.total)} files) | ${(deleteMs / 1000).toFixed(1)} s until its job is done |`,
    );
    writeSection("bench:upload", lines);
  } finally {
    server.stop();
    rmSync(tree, { recursive: true, force: true });
  }
}

await main();
