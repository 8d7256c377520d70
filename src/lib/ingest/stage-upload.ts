/**
 * Unpacks an uploaded tree into staged batches in R2, checking every entry first: a bad archive
 * (corrupt, unsafe path, link, bomb, non-UTF-8 text) throws before any catalog row or queue message
 * exists, and the staged objects written so far are deleted. Unchanged files are not staged at all.
 */
import { eq } from "drizzle-orm";
import type { ArchiveEntry } from "../archive";
import { buildIgnoreRules, decodeFile } from "../chunker";
import { newId, sha256Hex } from "../crypto/hash";
import { AppError } from "../errors";
import { type Db, tables } from "../storage";
import { failJob, insertJobStatements, type JobSource } from "./jobs";
import { type IngestMessage, type StagedFile, stagingKey } from "./messages";
import type { Statement } from "./write-files";

export type StageDeps = { db: Db; bucket: R2Bucket; queue: Queue<IngestMessage> };

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
  let defaultIgnored = 0;
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
      if (defaults.isIgnored(entry.path)) {
        defaultIgnored++;
        continue;
      }
      if (entry.bytes === undefined) {
        pending.push({
          path: entry.path,
          size: entry.size,
          sha256: "",
          binary: false,
          skipReason: `larger than the ${project.maxFileBytes}-byte file limit (${entry.size} bytes)`,
        });
      } else {
        const sha256 = await sha256Hex(entry.bytes);
        const decoded = decodeFile(entry.path, entry.bytes);
        if (decoded.kind === "invalid-utf8") {
          throw new AppError(422, "invalid_utf8", `"${entry.path}" is neither valid UTF-8 text nor binary; re-encode it as UTF-8 or add it to .gitignore`);
        }
        if (decoded.kind === "text" && (entry.path === ".gitignore" || entry.path.endsWith("/.gitignore"))) {
          gitignores.push({ dir: entry.path.slice(0, Math.max(0, entry.path.lastIndexOf("/"))), text: decoded.text });
        }
        if (existing.get(entry.path) === sha256) {
          unchanged.push(entry.path);
          continue;
        }
        if (decoded.kind === "binary") pending.push({ path: entry.path, size: entry.size, sha256, binary: true });
        else {
          pending.push({ path: entry.path, size: entry.size, sha256, binary: false, text: decoded.text });
          pendingBytes += entry.size;
        }
      }
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
    for (const p of paths) if (!rules.isIgnored(p)) kept.add(p);
    return { kind: "staged", jobId, projectId: project.projectId, seq, key: stagingKey(project.projectId, jobId, seq), ignored: skip };
  });
  let unchangedKept = 0;
  for (const p of unchanged) {
    if (rules.isIgnored(p)) ignored++;
    else {
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
  };
  try {
    await runBatch(db, insertJobStatements(db, job, messages.length));
  } catch (e) {
    await discardStaged();
    throw e;
  }
  await enqueue(deps, jobId, messages);
  return { jobId, batches: messages.length, filesTotal: kept.size };
}

/** Sends a job's messages; if the queue refuses, the job is marked failed so the loss is visible. */
export async function enqueue(deps: { db: Db; queue: Queue<IngestMessage> }, jobId: string, messages: IngestMessage[]): Promise<void> {
  try {
    for (let i = 0; i < messages.length; i += SEND_BATCH) {
      await deps.queue.sendBatch(messages.slice(i, i + SEND_BATCH).map((body) => ({ body })));
    }
  } catch (e) {
    await failJob(deps.db, jobId, `could not enqueue the job: ${String(e)}`);
    throw new AppError(503, "queue_unavailable", "the ingestion queue did not accept the job; it is recorded as failed, retry the upload");
  }
}

/** Runs statements as one D1 batch (one transaction). */
export async function runBatch(db: Db, statements: Statement[]): Promise<void> {
  if (statements.length === 0) return;
  await db.batch(statements as [Statement, ...Statement[]]);
}
