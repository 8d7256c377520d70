/** The API calls a soak makes more than once: projects, uploads, jobs (with stuck-job detection), file listings. */
import type { LocalServer } from "../local-server";
import { definitions, type Frame } from "./bug-report";
import { ApiError, type Recorder, sleep } from "./recorder";

export type JobView = {
  jobId: string;
  projectId: string;
  status: string;
  files: { total: number; done: number };
  tokens: number;
  errors: unknown[];
  batches: { total: number; done: number; failed: number };
  attempts: number;
  requeues: number;
  stalledSince: string | null;
  createdAt: string;
  finishedAt?: string;
};

export type StuckJob = { label: string; reason: string; seenAt: string; job: JobView | undefined; final?: JobView };
export type FileRow = { path: string; sha256: string; status: string; chunkIds: string[] };

/** What every workload shares: the recorder, when to stop, and where stuck jobs are reported. */
export type Ctx = {
  rec: Recorder;
  server: LocalServer;
  /** No new work starts after this. */
  end: number;
  /** Work in flight is abandoned after this (and its job reported as stuck). */
  hardEnd: number;
  stuckMs: number;
  stuck: StuckJob[];
  log(line: string): void;
};

export async function createProject(ctx: Ctx, name: string): Promise<string | undefined> {
  const r = await ctx.rec.call<{ projectId: string }>("project create", "/api/projects", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  return r instanceof ApiError ? undefined : r.projectId;
}

export async function upload(ctx: Ctx, projectId: string, archive: Uint8Array): Promise<{ jobId: string } | undefined> {
  const r = await ctx.rec.call<{ jobId: string }>("upload", `/api/projects/${projectId}/ingest`, {
    method: "POST",
    headers: { "content-type": "application/gzip" },
    body: archive,
  });
  return r instanceof ApiError ? undefined : r;
}

/**
 * Polls a job until it is done or failed. A job the watchdog marks stalled, or one not finished within
 * `ctx.stuckMs` (or still running at `ctx.hardEnd`), is reported in `ctx.stuck` with its JSON, once.
 */
export async function waitJob(ctx: Ctx, label: string, jobId: string, since = Date.now()): Promise<JobView | undefined> {
  let reported: StuckJob | undefined;
  let last: JobView | undefined;
  for (;;) {
    const r = await ctx.rec.call<JobView>("job poll", `/api/jobs/${jobId}`);
    if (!(r instanceof ApiError)) last = r;
    if (last && (last.status === "done" || last.status === "failed")) {
      if (reported) reported.final = last;
      if (last.status === "failed") ctx.rec.countError(`job failed (${label})`);
      return last;
    }
    const overdue = Date.now() - since > ctx.stuckMs;
    const late = Date.now() > ctx.hardEnd;
    if (!reported && (last?.stalledSince || overdue || late)) {
      const reason = last?.stalledSince
        ? `stalledSince ${last.stalledSince}`
        : overdue
          ? `not finished within ${ctx.stuckMs / 60_000} min`
          : "still running when the soak ended";
      reported = { label, reason, seenAt: new Date().toISOString(), job: last };
      ctx.stuck.push(reported);
      ctx.log(`STUCK ${label}: ${reason}\n${JSON.stringify(last, null, 2)}`);
    }
    if (overdue || late) {
      if (reported) reported.final = last;
      return last;
    }
    await sleep(1_000);
  }
}

/** Every file row of a project (pages of 1,000). */
export async function listFiles(ctx: Ctx, projectId: string, status?: string): Promise<FileRow[] | undefined> {
  const out: FileRow[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({ limit: "1000" });
    if (cursor) q.set("cursor", cursor);
    if (status) q.set("status", status);
    const r: { files: FileRow[]; nextCursor: string | null } | ApiError = await ctx.rec.call("files", `/api/projects/${projectId}/files?${q}`);
    if (r instanceof ApiError) return undefined;
    out.push(...r.files);
    cursor = r.nextCursor;
  } while (cursor);
  return out;
}

/** Functions defined in up to `files` source files of the project, read from their first chunks. */
export async function projectFrames(ctx: Ctx, projectId: string, files = 25): Promise<Frame[]> {
  const rows = (await listFiles(ctx, projectId, "text")) ?? [];
  const sources = rows.filter((f) => /\.(py|ts|js|go|rs|java)$/.test(f.path) && f.chunkIds.length > 0);
  const step = Math.max(1, Math.floor(sources.length / files));
  const frames: Frame[] = [];
  for (let i = 0; i < sources.length && frames.length < 400; i += step) {
    const f = sources[i] as FileRow;
    const chunk = await ctx.rec.call<{ text: string; startLine: number }>("chunk", `/api/chunks/${f.chunkIds[0]}`);
    if (!(chunk instanceof ApiError)) frames.push(...definitions(f.path, chunk.text, chunk.startLine));
  }
  return frames;
}
