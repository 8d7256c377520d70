/**
 * Unpacks an uploaded tree into staged batches in R2, deciding every entry's outcome as it goes (text,
 * decoded text, binary with its bytes, link, or skipped with a reason). A structurally bad archive (corrupt, unsafe
 * path, bomb, too many entries) throws before any catalog row or queue message exists, and the staged
 * objects written so far are deleted. Unchanged files are not staged at all, unless the upload has to
 * wait for an earlier one of the project (see tree-order.ts).
 */
import { eq } from "drizzle-orm";
import type { ArchiveEntry } from "../archive";
import { buildIgnoreRules } from "../chunker";
import { newId } from "../crypto/hash";
import { AppError } from "../errors";
import { type Db, runBatch, tables, toBase64 } from "../storage";
import { enqueue, type WatchJob } from "./enqueue";
import { type SkippedEntry, stageEntry } from "./entry-outcome";
import { insertJobStatements, type JobSource } from "./jobs";
import { type IngestMessage, REMOVALS_PER_MESSAGE, type StagedFile, stagingKey } from "./messages";
import { claimTree, jobEnded, manifestKey, startNextTree } from "./tree-order";

export type StageDeps = { db: Db; bucket: R2Bucket; queue: Queue<IngestMessage>; watchJob: WatchJob };

// A staged batch is one queue message: ~1 MiB of text (and binary files' base64; one of 16 MiB is a batch of its
// own) keeps a consumer well inside its CPU and memory limits; 250 files means at most ~250 new R2 objects plus ~60 D1 statements per message,
// far under the 1,000 subrequests one invocation may make.
const BATCH_TEXT_BYTES = 1024 * 1024;
const BATCH_FILES = 250;

/** `waiting`: another upload of the project is being applied; this one follows it (tree-order.ts). */
export type StageResult = { jobId: string; batches: number; filesTotal: number; waiting: boolean };

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
  // One upload is applied at a time (tree-order.ts). The claim comes before the catalog is read, so
  // the catalog read is the one this tree is applied to; without it, every file is staged and the job waits.
  const applying = await claimTree(db, project.projectId, jobId, createdAt);
  const existing = new Map<string, string>();
  if (applying) {
    for (const r of await db
      .select({ path: tables.files.path, sha256: tables.files.sha256 })
      .from(tables.files)
      .where(eq(tables.files.projectId, project.projectId))
      .all()) {
      existing.set(r.path, r.sha256);
    }
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
    if (!applying) await bucket.delete(manifestKey(project.projectId, jobId));
    // The claim passes on to an upload that waited for this one.
    else await jobEnded(deps, jobId);
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
      const { file, blob } = await stageEntry(entry, project.maxFileBytes);
      if (file.status === "text" && (entry.path === ".gitignore" || entry.path.endsWith("/.gitignore"))) {
        gitignores.push({ dir: entry.path.slice(0, Math.max(0, entry.path.lastIndexOf("/"))), text: file.text ?? "" });
      }
      if (file.sha256 !== "" && existing.get(entry.path) === file.sha256) {
        unchanged.push(entry.path);
        continue;
      }
      // A binary file's bytes ride in the batch (base64); its consumer stores them as the project's blob.
      const bytes = blob ? toBase64(blob) : undefined;
      pending.push(bytes === undefined ? file : { ...file, bytes });
      pendingBytes += (file.text?.length ?? 0) + (bytes?.length ?? 0);
      if (pendingBytes >= BATCH_TEXT_BYTES || pending.length >= BATCH_FILES) await flush();
    }
    await flush();
  } catch (e) {
    await discardStaged();
    throw e;
  }
  if (staged.length === 0 && unchanged.length === 0) {
    await discardStaged();
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
  // A waiting upload's removals are decided when it is applied, against the catalog as it is then.
  const removals = [...existing.keys()].filter((p) => !kept.has(p));
  if (!applying) await bucket.put(manifestKey(project.projectId, jobId), JSON.stringify([...kept]));
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
    await runBatch(db, insertJobStatements(db, job, messages, applying ? "queued" : "waiting"));
  } catch (e) {
    await discardStaged();
    throw e;
  }
  if (applying) {
    // A job the queue refused is failed as a whole, and hands the claim on.
    await enqueue(deps, jobId, messages).catch(async (e: unknown) => {
      await jobEnded(deps, jobId);
      throw e;
    });
  } else {
    // The upload it waited for may have ended while this one was staged.
    await startNextTree(deps, project.projectId);
  }
  return { jobId, batches: messages.length, filesTotal: kept.size, waiting: !applying };
}
