/**
 * winky: command-line client. `winky ingest <dir>` packs a directory, uploads it to a running server
 * (local by default) and shows the job's progress until it ends, then a summary.
 */
import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import { packDirectory } from "./pack-directory";

type Job = {
  status: string;
  files: { total: number; done: number; skipped: number; unchanged: number; ignored: number; removed: number };
  chunks: number;
  chunksWritten: number;
  tokens: number;
  errors: { path?: string; message: string }[];
};

const USAGE = `usage: winky ingest <dir> [--server URL] [--token TOKEN] [--project ID | --name NAME]

  --server   API base URL (default $WINKY_SERVER or http://127.0.0.1:$PORT, PORT defaulting to 8787)
  --token    API token (default $WINKY_API_TOKEN, then WINKY_API_TOKEN in ./.dev.vars)
  --project  ingest into this existing project
  --name     create a project with this name (default: the directory's name)`;

function tokenFromDevVars(): string | undefined {
  try {
    return /^WINKY_API_TOKEN=(.+)$/m.exec(readFileSync(".dev.vars", "utf8"))?.[1]?.trim();
  } catch {
    return undefined;
  }
}

async function call<T>(server: string, token: string, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${server}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

function bar(done: number, total: number, width = 30): string {
  const share = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(share * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}%`;
}

const fmt = (n: number): string => n.toLocaleString("en-US");

export async function ingest(dir: string, opts: { server: string; token: string; project?: string | undefined; name?: string | undefined }): Promise<Job> {
  const root = resolve(dir);
  const started = performance.now();
  const packed = await packDirectory(root);
  process.stdout.write(`packed ${fmt(packed.files)} files (${fmt(packed.bytes)} bytes, ${fmt(packed.archive.byteLength)} compressed)\n`);
  if (packed.skippedLinks.length > 0) process.stdout.write(`left out ${packed.skippedLinks.length} symbolic links\n`);
  const projectId =
    opts.project ??
    (
      await call<{ projectId: string }>(opts.server, opts.token, "/api/projects", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: opts.name ?? basename(root) }),
      })
    ).projectId;
  const { jobId } = await call<{ jobId: string }>(opts.server, opts.token, `/api/projects/${projectId}/ingest`, {
    method: "POST",
    headers: { "content-type": "application/gzip" },
    body: packed.archive,
  });
  process.stdout.write(`project ${projectId}, job ${jobId}\n`);
  let job: Job;
  for (;;) {
    job = await call<Job>(opts.server, opts.token, `/api/jobs/${jobId}`);
    const handled = job.files.done + job.files.skipped;
    if (process.stdout.isTTY)
      process.stdout.write(
        `\r${bar(handled, job.files.total)} files ${fmt(handled)}/${fmt(job.files.total)}  chunks ${fmt(job.chunks)}  tokens ${fmt(job.tokens)}  `,
      );
    if (job.status === "done" || job.status === "failed") break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${process.stdout.isTTY ? "\n" : ""}${bar(1, 1)} ${job.status} in ${seconds.toFixed(1)} s\n`);
  process.stdout.write(
    [
      `  files     ${fmt(job.files.total)} (${fmt(job.files.unchanged)} unchanged, ${fmt(job.files.skipped)} skipped, ${fmt(job.files.ignored)} ignored, ${fmt(job.files.removed)} removed)`,
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
    options: { server: { type: "string" }, token: { type: "string" }, project: { type: "string" }, name: { type: "string" }, help: { type: "boolean" } },
  });
  const [command, dir] = positionals;
  if (values.help || command !== "ingest" || !dir) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const server = (values.server ?? process.env.WINKY_SERVER ?? `http://127.0.0.1:${process.env.PORT ?? "8787"}`).replace(/\/+$/, "");
  const token = values.token ?? process.env.WINKY_API_TOKEN ?? tokenFromDevVars();
  if (!token) {
    process.stderr.write("no API token: pass --token, set WINKY_API_TOKEN, or run from a directory with .dev.vars\n");
    return 2;
  }
  const job = await ingest(dir, { server, token, project: values.project, name: values.name });
  return job.status === "done" ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`winky: ${e instanceof Error ? e.message : String(e)}\n`);
  return 1;
});
