/**
 * winky: command-line client. `winky ingest <dir>` packs a directory (streaming, to a temporary file),
 * uploads it to a running server (local by default; large archives in parts) and shows the upload's and
 * then the job's progress until it ends, then a summary of every outcome.
 */
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { packDirectory } from "./pack-directory";
import { call, uploadArchive } from "./upload";

type Job = {
  status: string;
  files: { total: number; done: number; skipped: number; unchanged: number; ignored: number; removed: number };
  outcomes: { text: number; decoded: number; binary: number; link: number; skipped: Record<string, number> };
  skipped: { path: string; reason: string; detail?: string }[];
  chunks: number;
  chunksWritten: number;
  tokens: number;
  errors: { path?: string; message: string }[];
};

const USAGE = `usage: winky ingest <dir> [--server URL] [--token TOKEN] [--project ID | --name NAME] [--multipart-threshold BYTES]

  --server               API base URL (default $WINKY_SERVER or http://127.0.0.1:$PORT, PORT defaulting to 8787)
  --token                API key (default $WINKY_API_KEY, then WINKY_API_KEY in ./.dev.vars)
  --project              ingest into this existing project
  --name                 create a project with this name (default: the directory's name)
  --multipart-threshold  archives larger than this many bytes go as a multipart upload (default 64 MiB)`;

function tokenFromDevVars(): string | undefined {
  try {
    return /^WINKY_API_KEY=(.+)$/m.exec(readFileSync(".dev.vars", "utf8"))?.[1]?.trim();
  } catch {
    return undefined;
  }
}

function bar(done: number, total: number, width = 30): string {
  const share = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(share * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}%`;
}

const fmt = (n: number): string => n.toLocaleString("en-US");
const mib = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`;

export async function ingest(
  dir: string,
  opts: { server: string; token: string; project?: string | undefined; name?: string | undefined; multipartThreshold?: number | undefined },
): Promise<Job> {
  const root = resolve(dir);
  const client = { server: opts.server, token: opts.token };
  const started = performance.now();
  const packed = await packDirectory(root);
  process.stdout.write(
    `packed ${fmt(packed.files)} files and ${fmt(packed.links)} links (${fmt(packed.bytes)} bytes, ${mib(packed.compressedBytes)} compressed)\n`,
  );
  const projectId =
    opts.project ??
    (
      await call<{ projectId: string }>(client, "/api/projects", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: opts.name ?? basename(root) }),
      })
    ).projectId;
  let uploaded: { jobId: string; multipart: boolean };
  try {
    uploaded = await uploadArchive(
      client,
      projectId,
      { path: packed.path, size: packed.compressedBytes },
      {
        threshold: opts.multipartThreshold,
        onProgress: (sent, total) => {
          if (process.stdout.isTTY) process.stdout.write(`\r${bar(sent, total)} uploading ${mib(sent)} / ${mib(total)}  `);
        },
      },
    );
  } finally {
    await rm(dirname(packed.path), { recursive: true, force: true });
  }
  const { jobId } = uploaded;
  process.stdout.write(`${process.stdout.isTTY ? "\n" : ""}uploaded${uploaded.multipart ? " in parts" : ""}: project ${projectId}, job ${jobId}\n`);
  let job: Job;
  for (;;) {
    job = await call<Job>(client, `/api/jobs/${jobId}`);
    const handled = job.files.done + job.files.skipped;
    if (process.stdout.isTTY)
      process.stdout.write(
        `\r${bar(handled, job.files.total)} indexing files ${fmt(handled)}/${fmt(job.files.total)}  chunks ${fmt(job.chunks)}  tokens ${fmt(job.tokens)}  `,
      );
    if (job.status === "done" || job.status === "failed") break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const seconds = (performance.now() - started) / 1000;
  const o = job.outcomes;
  const skippedBy = Object.entries(o.skipped)
    .map(([reason, n]) => `${fmt(n)} ${reason}`)
    .join(", ");
  process.stdout.write(`${process.stdout.isTTY ? "\n" : ""}${bar(1, 1)} ${job.status} in ${seconds.toFixed(1)} s\n`);
  process.stdout.write(
    [
      `  files     ${fmt(job.files.total)} (${fmt(job.files.unchanged)} unchanged, ${fmt(job.files.removed)} removed)`,
      `  outcomes  ${fmt(o.text)} text, ${fmt(o.decoded)} decoded from another encoding, ${fmt(o.binary)} binary, ${fmt(o.link)} links`,
      `  skipped   ${skippedBy || "none"}`,
      ...job.skipped.slice(0, 20).map((e) => `    - ${e.path}: ${e.reason}${e.detail ? ` (${e.detail})` : ""}`),
      `  chunks    ${fmt(job.chunks)} indexed, ${fmt(job.chunksWritten)} new objects`,
      `  tokens    ${fmt(job.tokens)}`,
      ...job.errors.slice(0, 20).map((e) => `  ! ${e.path ? `${e.path}: ` : ""}${e.message}`),
      "",
    ].join("\n"),
  );
  return job;
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      server: { type: "string" },
      token: { type: "string" },
      project: { type: "string" },
      name: { type: "string" },
      "multipart-threshold": { type: "string" },
      help: { type: "boolean" },
    },
  });
  const [command, dir] = positionals;
  if (values.help || command !== "ingest" || !dir) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const server = (values.server ?? process.env.WINKY_SERVER ?? `http://127.0.0.1:${process.env.PORT ?? "8787"}`).replace(/\/+$/, "");
  const token = values.token ?? process.env.WINKY_API_KEY ?? tokenFromDevVars();
  if (!token) {
    process.stderr.write("no API key: pass --token, set WINKY_API_KEY, or run from a directory with .dev.vars\n");
    return 2;
  }
  const threshold = values["multipart-threshold"] === undefined ? undefined : Number(values["multipart-threshold"]);
  if (threshold !== undefined && !(threshold >= 0)) {
    process.stderr.write("--multipart-threshold takes a number of bytes\n");
    return 2;
  }
  const job = await ingest(dir, { server, token, project: values.project, name: values.name, multipartThreshold: threshold });
  return job.status === "done" ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`winky: ${e instanceof Error ? e.message : String(e)}\n`);
  return 1;
});
