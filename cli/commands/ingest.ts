/**
 * winky ingest <dir>: packs a directory (streaming, honouring .gitignore, to a temporary file), uploads it
 * (in parts when large), follows the job until it ends and summarises every outcome, skipped files with
 * their reasons.
 */
import { openAsBlob } from "node:fs";
import { rm } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import type { Job } from "../../src/client";
import { type Ctx, intFlag, required } from "../context";
import { EXIT, type ExitCode } from "../exit-codes";
import { bar, fmt, mib } from "../output";
import { packDirectory } from "../pack-directory";

export function jobSummary(job: Job, seconds?: number): string {
  const o = job.outcomes;
  const skippedBy = Object.entries(o.skipped)
    .map(([reason, n]) => `${fmt(n)} ${reason}`)
    .join(", ");
  return [
    `${bar(1, 1)} ${job.status}${seconds === undefined ? "" : ` in ${seconds.toFixed(1)} s`}`,
    `  files     ${fmt(job.files.total)} (${fmt(job.files.unchanged)} unchanged, ${fmt(job.files.removed)} removed)`,
    `  outcomes  ${fmt(o.text)} text, ${fmt(o.decoded)} decoded from another encoding, ${fmt(o.binary)} binary, ${fmt(o.link)} links`,
    `  skipped   ${skippedBy || "none"}`,
    ...job.skipped.slice(0, 20).map((e) => `    - ${e.path}: ${e.reason}${e.detail ? ` (${e.detail})` : ""}`),
    `  chunks    ${fmt(job.chunks)} indexed, ${fmt(job.chunksWritten)} new objects`,
    `  tokens    ${fmt(job.tokens)}`,
    ...job.errors.slice(0, 20).map((e) => `  ! ${e.path ? `${e.path}: ` : ""}${e.message}`),
  ].join("\n");
}

export async function ingest(ctx: Ctx): Promise<ExitCode> {
  const root = resolve(required(ctx.args[0], "the directory: winky ingest <dir>"));
  const threshold = intFlag(ctx.flags["multipart-threshold"], "multipart-threshold");
  const client = ctx.client();
  const { out } = ctx;
  const started = performance.now();
  const packed = await packDirectory(root);
  out.note(`packed ${fmt(packed.files)} files and ${fmt(packed.links)} links (${fmt(packed.bytes)} bytes, ${mib(packed.compressedBytes)} compressed)`);
  let uploaded: { jobId: string; multipart: boolean };
  let projectId: string;
  try {
    projectId = ctx.flags.project ?? (await client.projects.create({ name: ctx.flags.name ?? basename(root) })).projectId;
    uploaded = await client.uploads.upload(projectId, await openAsBlob(packed.path), {
      threshold,
      onProgress: (sent, total) => out.progress(`${bar(sent, total)} uploading ${mib(sent)} / ${mib(total)}`),
    });
  } finally {
    await rm(dirname(packed.path), { recursive: true, force: true });
  }
  out.endProgress();
  out.note(`uploaded${uploaded.multipart ? " in parts" : ""}: project ${projectId}, job ${uploaded.jobId}`);
  const job = await client.jobs.wait(uploaded.jobId, {
    onProgress: (j) => {
      const handled = j.files.done + j.files.skipped;
      out.progress(`${bar(handled, j.files.total)} indexing files ${fmt(handled)}/${fmt(j.files.total)}  chunks ${fmt(j.chunks)}  tokens ${fmt(j.tokens)}`);
    },
  });
  out.endProgress();
  const seconds = (performance.now() - started) / 1000;
  out.result({ projectId, jobId: uploaded.jobId, multipart: uploaded.multipart, packed: { ...packed, path: undefined }, job }, jobSummary(job, seconds));
  return job.status === "done" ? EXIT.ok : EXIT.failure;
}
