/**
 * Unpacks an uploaded tree into staged batches in R2, deciding every entry's outcome as it goes (text,
 * decoded text, binary, link, or skipped with a reason). A structurally bad archive (corrupt, unsafe
 * path, bomb, too many entries) throws before any catalog row or queue message exists, and the staged
 * objects written so far are deleted. Unchanged files are not staged at all.
 */
import { eq } from "drizzle-orm";
import type { ArchiveEntry } from "../archive";
import { buildIgnoreRules } from "../chunker";
import { newId } from "../crypto/hash";
import { AppError } from "../errors";
import { type Db, runBatch, tables } from "../storage";
import { type SkippedEntry, stageEntry } from "./entry-outcome";
import { failJob, insertJobStatements, type JobSource } from "./jobs";
import { type IngestMessage, type StagedFile, stagingKey } from "./messages";

/** Starts the job's watchdog (see watchdog.ts), so a stalled batch is re-sent or failed, never silent. */
export type WatchJob = (jobId: string) => Promise<void>;

export type StageDeps = { db: Db; bucket: R2Bucket; queue: Queue<IngestMessage>; watchJob: WatchJob };

// A staged batch is one queue message: ~1 MiB of text keeps a consumer well inside its CPU and
// memory limits; 250 files means at most ~250 new R2 objects plus ~60 D1 statements per message,
// far under the 1,000 subrequests one invocation may make.
const BATCH_TEXT_BYTES = 1024 * 1024;
const BATCH_FILES = 250;
// Paths per removal message: 400 paths of 250 bytes stay far below the 128 KB message limit.
const REMOVALS_PER_MESSAGE = 400;
// Queue.sendBatch takes at most 100 messages per call.
const SEND_BATCH = 100;

export type StageResult = { jobId: string; batches: number; filesTotal: number };

// The job lists this many skipped paths decided at staging (ignored, duplicates); the rest are counted.
const SKIPPED_SAMPLE = 100;

export async function stageUpload(
  deps: StageDeps,
  project: { projectId: string; orgId: string; maxFileBytes: number },
  entries: AsyncIterable<ArchiveEntry>,
  source: JobSource = "upload",
): Promise<StageResult> {
  const { db, bucket } = deps;
  const jobId = newId("job");
  const createdAt = Date.now();
  const existing = new Map<string, string>();
  for (const r of await db
    .select({ path: tables.files.path, sha256: tables.files.sha256 })
    .from(tables.files)
    .where(eq(tables.files.projectId, project.projectId))
    .all()) {
    existing.set(r.path, r.sha256);
  }

  const defaults = buildIgnoreRules([]);
  const gitignores: { dir: string; text: string }[] = [];
  const staged: string[][] = []; // paths of each staged batch
  const unchanged: string[] = [];
  const seen = new Set<string>();
  const sample: SkippedEntry[] = [];
  const note = (e: SkippedEntry): void => {
    if (sample.length < SKIPPED_SAMPLE) sample.push(e);
  };
  let defaultIgnored = 0;
  let duplicates = 0;
  let pending: StagedFile[] = [];
  let pendingBytes = 0;

  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const seq = staged.length;
    staged.push(pending.map((f) => f.path));
    await bucket.put(stagingKey(project.projectId, jobId, seq), JSON.stringify({ files: pending }));
    pending = [];
    pendingBytes = 0;
  };
  const discardStaged = async (): Promise<void> => {
    const keys = staged.map((_, seq) => stagingKey(project.projectId, jobId, seq));
    for (let i = 0; i < keys.length; i += 1000) await bucket.delete(keys.slice(i, i + 1000));
  };

  try {
    for await (const entry of entries) {
      // The first entry of a path wins; a later one (after normalisation) is listed, never mixed in.
      if (seen.has(entry.path)) {
        duplicates++;
        note({ path: entry.path, reason: "duplicate path", detail: "an earlier entry of the archive has the same path" });
        continue;
      }
      seen.add(entry.path);
      if (defaults.isIgnored(entry.path)) {
        defaultIgnored++;
        note({ path: entry.path, reason: "ignored", detail: "default ignore list" });
        continue;
      }
      const file = await stageEntry(entry, project.maxFileBytes);
      if (file.status === "text" && (entry.path === ".gitignore" || entry.path.endsWith("/.gitignore"))) {
        gitignores.push({ dir: entry.path.slice(0, Math.max(0, entry.path.lastIndexOf("/"))), text: file.text ?? "" });
      }
      if (file.sha256 !== "" && existing.get(entry.path) === file.sha256) {
        unchanged.push(entry.path);
        continue;
      }
      pending.push(file);
      pendingBytes += file.text?.length ?? 0;
      if (pendingBytes >= BATCH_TEXT_BYTES || pending.length >= BATCH_FILES) await flush();
    }
    await flush();
  } catch (e) {
    await discardStaged();
    throw e;
  }
  if (staged.length === 0 && unchanged.length === 0) {
    throw new AppError(
      400,
      "empty_archive",
      defaultIgnored > 0 ? "every file in the archive is excluded by the default ignore list" : "the archive contains no files",
    );
  }

  // .gitignore files may come after the paths they exclude, so they are applied once all are known.
  const rules = buildIgnoreRules(gitignores);
  let ignored = defaultIgnored;
  const kept = new Set<string>();
  const messages: IngestMessage[] = staged.map((paths, seq) => {
    const skip = paths.filter((p) => rules.isIgnored(p));
    ignored += skip.length;
    for (const p of skip) note({ path: p, reason: "ignored", detail: ".gitignore" });
    for (const p of paths) if (!rules.isIgnored(p)) kept.add(p);
    return { kind: "staged", jobId, projectId: project.projectId, seq, key: stagingKey(project.projectId, jobId, seq), ignored: skip };
  });
  let unchangedKept = 0;
  for (const p of unchanged) {
    if (rules.isIgnored(p)) {
      ignored++;
      note({ path: p, reason: "ignored", detail: ".gitignore" });
    } else {
      kept.add(p);
      unchangedKept++;
    }
  }
  const removals = [...existing.keys()].filter((p) => !kept.has(p));
  for (let i = 0; i < removals.length; i += REMOVALS_PER_MESSAGE) {
    messages.push({ kind: "remove", jobId, projectId: project.projectId, seq: messages.length, paths: removals.slice(i, i + REMOVALS_PER_MESSAGE) });
  }

  const job = {
    jobId,
    projectId: project.projectId,
    orgId: project.orgId,
    source,
    createdAt,
    filesTotal: kept.size,
    filesUnchanged: unchangedKept,
    filesIgnored: ignored,
    filesDuplicate: duplicates,
    skippedSample: JSON.stringify(sample),
  };
  try {
    await runBatch(db, insertJobStatements(db, job, messages));
  } catch (e) {
    await discardStaged();
    throw e;
  }
  await enqueue(deps, jobId, messages);
  return { jobId, batches: messages.length, filesTotal: kept.size };
}

/** Sends a job's messages and starts its watchdog; if the queue refuses, the job is marked failed so the loss is visible. */
export async function enqueue(deps: { db: Db; queue: Queue<IngestMessage>; watchJob: WatchJob }, jobId: string, messages: IngestMessage[]): Promise<void> {
  try {
    for (let i = 0; i < messages.length; i += SEND_BATCH) {
      await deps.queue.sendBatch(messages.slice(i, i + SEND_BATCH).map((body) => ({ body })));
    }
  } catch (e) {
    await failJob(deps.db, jobId, `could not enqueue the job: ${String(e)}`);
    throw new AppError(503, "queue_unavailable", "the ingestion queue did not accept the job; it is recorded as failed, retry the upload");
  }
  // The job is already on its way; a watchdog that cannot start now is logged, not a failed upload.
  await deps.watchJob(jobId).catch((e: unknown) => console.error(JSON.stringify({ jobId, error: `watchdog not started: ${String(e)}` })));
}
