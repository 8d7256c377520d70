/** Does the work of one ingestion queue message: prepare the files, write chunks, commit the batch. */

import { eq } from "drizzle-orm";
import { buildIgnoreRules } from "../chunker";
import { sha256Hex } from "../crypto/hash";
import { checkPushPath, fetchFileAt, type GitHost } from "../git-host";
import { DEADLINES, type DeadlineKind, withDeadline } from "../resilience/deadline";
import { mapWithTurns } from "../resilience/yield";
import { type Db, fromBase64, runBatch, tables } from "../storage";
import { type SummarizeFilesMessage, summariesWanted, summarizeMessages } from "../summaries";
import type { Tokenizer } from "../tokenizer";
import { projectGitHost } from "./enqueue-push";
import { entryReadLimit, outcomeKey, stageEntry } from "./entry-outcome";
import { indexInShard, type ShardNamespace } from "./index-shard";
import { type BatchOutcomes, batchStatus, type FileError, finishBatchStatement, markBatchFailed, type SkippedView } from "./jobs";
import { type IngestMessage, StagedBatch, type StagedFile } from "./messages";
import { metadataOnly, type PreparedFile, type ProjectSettings, prepareTextFile } from "./prepare-file";
import { writeFiles } from "./write-files";

export type ProcessDeps = {
  db: Db;
  bucket: R2Bucket;
  /** The git host's base URL; each project's own credential is added for its fetches. */
  gitHostUrl: string;
  /** Opens the projects' sealed credentials (WINKY_SEAL_KEY). */
  sealKey: string | undefined;
  projectIndex: ShardNamespace;
  /** Overrides of the default deadlines (tests shorten them). */
  deadlines?: Partial<Record<DeadlineKind, number>> | undefined;
  /**
   * Model-written summaries, when a model key is configured: the indexed text files are handed to the
   * queue for them (src/lib/summaries) before the batch commits, so a failed send retries the batch.
   */
  summaries?: { deploymentDefault: boolean; send(msgs: SummarizeFilesMessage[]): Promise<void> } | undefined;
};

// Files fetched from the git host at once for one push message.
const GIT_FETCH_CONCURRENCY = 8;

export class PermanentError extends Error {
  override name = "PermanentError";
}

export async function processMessage(deps: ProcessDeps, msg: IngestMessage): Promise<"done" | "already-done"> {
  const { db } = deps;
  const limits = { ...DEADLINES, ...deps.deadlines };
  const status = await withDeadline("reading the batch row", limits.storage, batchStatus(db, msg.jobId, msg.seq));
  if (status === undefined) throw new PermanentError(`no batch ${msg.seq} for job ${msg.jobId}`);
  if (status !== "queued") return "already-done";

  const [job, project] = await withDeadline(
    "reading the job and its project",
    limits.storage,
    Promise.all([db.select().from(tables.ingestJobs).where(eq(tables.ingestJobs.jobId, msg.jobId)).get(), loadProjectSettings(db, msg.projectId)]),
  );
  if (!job || job.projectId !== msg.projectId) throw new PermanentError(`job ${msg.jobId} does not belong to project ${msg.projectId}`);
  if (!project) {
    // The project is being deleted (or gone): the batch ends failed with that reason, without a retry.
    await withDeadline("failing the batch", limits.storage, markBatchFailed(db, msg.jobId, msg.seq, "the project was deleted"));
    return "already-done";
  }

  const errors: FileError[] = [];
  let prepared: PreparedFile[] = [];
  let removals: string[] = [];
  // Pushed paths refused or excluded by the repository's .gitignore files: counted and listed, never stored.
  const gitSkipped: SkippedView[] = [];

  if (msg.kind === "staged") {
    const batch = await withDeadline(
      "reading the staged batch from R2",
      limits.storage,
      (async () => {
        const obj = await deps.bucket.get(msg.key);
        if (!obj) throw new PermanentError(`staged batch ${msg.key} is missing`);
        return StagedBatch.parse(await obj.json());
      })(),
    );
    const ignored = new Set(msg.ignored);
    // Chunking a file is synchronous work: locally, the turns between files let requests be served.
    prepared = await mapWithTurns(
      batch.files.filter((f) => !ignored.has(f.path)),
      (f) => prepareStaged(project, f),
    );
  } else if (msg.kind === "git") {
    // Only the repository the project is linked to now, with the project's own credential.
    if (msg.repo.toLowerCase() !== project.repoFullName) throw new PermanentError(`the project is no longer linked to ${msg.repo}`);
    const gitHost = await projectGitHost(deps.gitHostUrl, deps.sealKey, project);
    // The route checked these paths; a message enqueued before it did is held to the same rules here.
    const paths: string[] = [];
    for (const checked of msg.paths.map(checkPushPath)) {
      if (checked.ok) paths.push(checked.path);
      else gitSkipped.push(checked.refused);
    }
    // One read per path per message: a pushed .gitignore is both a rule and a file.
    const cache: GitCache = new Map();
    const rules = await gitIgnoreRules(gitHost, msg.repo, msg.ref, paths, cache, errors);
    const wanted = paths.filter((p) => !rules.isIgnored(p));
    for (const p of paths) if (rules.isIgnored(p)) gitSkipped.push({ path: p, reason: "ignored", detail: ".gitignore" });
    for (const [path, bytes] of await fetchGitFiles(gitHost, msg.repo, msg.ref, wanted, cache)) {
      if (bytes === null) removals.push(path);
      else prepared.push(await prepareBytes(project, path, bytes));
    }
  } else {
    removals = msg.paths;
  }

  const outcomes = outcomesOf(prepared);
  const summarize = prepared.filter((f) => f.text !== undefined && f.chunks.length > 0).map((f) => f.path);
  addSkipped(outcomes, gitSkipped);
  const written = await withDeadline("writing chunks to R2", limits.catalogBatch, writeFiles(deps, msg.projectId, job.createdAt, prepared, removals));
  prepared = [];
  const { statements, stats } = written;
  const shard = { namespace: deps.projectIndex, projectId: msg.projectId, projectName: project.name };
  statements.push(...(await withDeadline("indexing in the project's shard", limits.shard, indexInShard(db, shard, written, job.createdAt))));
  if (deps.summaries && summarize.length > 0 && summariesWanted(project.modelSummaries, deps.summaries.deploymentDefault, project.complianceMode))
    await withDeadline("queueing model summaries", limits.storage, deps.summaries.send(summarizeMessages(msg.projectId, msg.jobId, summarize)));
  statements.push(finishBatchStatement(db, msg.jobId, msg.seq, stats, errors, outcomes));
  await withDeadline("committing the batch to D1", limits.catalogBatch, runBatch(db, statements));
  if (msg.kind === "staged") await withDeadline("deleting the staged batch", limits.storage, deps.bucket.delete(msg.key));
  return "done";
}

/**
 * One file's bytes as a prepared file, with the same outcomes as an uploaded entry. Its mode is unknown (a push's
 * file is fetched by path): the catalog keeps the recorded bit.
 */
export async function prepareBytes(project: ProjectSettings, path: string, bytes: Uint8Array): Promise<PreparedFile> {
  // A fetched file is read whole; it is capped like an upload's entry.
  const limit = entryReadLimit(project.maxFileBytes);
  const entry = { kind: "file" as const, path, size: bytes.byteLength, mode: 0, bytes: bytes.byteLength > limit ? undefined : bytes };
  const { file, blob } = await stageEntry(entry, project.maxFileBytes);
  const staged = { ...file, executable: undefined, ...(entry.bytes === undefined ? { sha256: await sha256Hex(bytes) } : {}) };
  return prepareStaged(project, staged, blob);
}

/** A staged entry as a prepared file: text is chunked, every other outcome is kept as metadata (a binary file with its bytes). */
async function prepareStaged(project: ProjectSettings, f: StagedFile, blob?: Uint8Array): Promise<PreparedFile> {
  if (f.status === "text")
    return prepareTextFile(project, { path: f.path, sha256: f.sha256, size: f.size, text: f.text ?? "", encoding: f.encoding, executable: f.executable });
  const { bytes, ...rest } = f;
  const kept = f.status === "binary" ? (blob ?? (bytes === undefined ? undefined : fromBase64(bytes))) : undefined;
  return metadataOnly({ ...rest, status: f.status, blobBytes: kept });
}

/** Counts per outcome and the skipped entries of one batch, for its job. */
function outcomesOf(files: PreparedFile[]): BatchOutcomes {
  const counts: Record<string, number> = {};
  const skipped: SkippedView[] = [];
  for (const f of files) {
    const key = outcomeKey(f);
    counts[key] = (counts[key] ?? 0) + 1;
    if (f.status === "skipped") skipped.push({ path: f.path, reason: f.skipReason ?? "unknown", ...(f.skipDetail ? { detail: f.skipDetail } : {}) });
  }
  return { counts, skipped };
}

type GitCache = Map<string, Promise<Uint8Array | null>>;

/** Reads `path` once per message; later reads of it share the first request. */
function readGitFile(host: GitHost, repo: string, ref: string, path: string, cache: GitCache): Promise<Uint8Array | null> {
  let got = cache.get(path);
  if (got === undefined) {
    got = fetchFileAt(host, repo, ref, path);
    cache.set(path, got);
  }
  return got;
}

async function fetchGitFiles(host: GitHost, repo: string, ref: string, paths: string[], cache: GitCache): Promise<[string, Uint8Array | null][]> {
  const out: [string, Uint8Array | null][] = [];
  for (let i = 0; i < paths.length; i += GIT_FETCH_CONCURRENCY) {
    const part = paths.slice(i, i + GIT_FETCH_CONCURRENCY);
    const got = await Promise.all(part.map((p) => readGitFile(host, repo, ref, p, cache)));
    for (const [j, p] of part.entries()) out.push([p, got[j] ?? null]);
  }
  return out;
}

// .gitignore files read for one push message at most; past this, deeper directories' rules are not
// applied (their files are indexed) and the batch records it. 200 reads stay well inside the budget.
const MAX_GITIGNORE_READS = 200;

/**
 * The default rules plus the repository's .gitignore files that can apply to `paths` at `ref`: the
 * root's and each ancestor directory's, read level by level so a directory already ignored is not read.
 */
async function gitIgnoreRules(host: GitHost, repo: string, ref: string, paths: string[], cache: GitCache, errors: FileError[]) {
  const gitignores: { dir: string; text: string }[] = [];
  const byDepth: Set<string>[] = [new Set([""])];
  for (const p of paths) {
    const parts = p.split("/").slice(0, -1);
    for (let d = 1; d <= parts.length; d++) {
      const level = byDepth[d] ?? new Set<string>();
      level.add(parts.slice(0, d).join("/"));
      byDepth[d] = level;
    }
  }
  let rules = buildIgnoreRules([]);
  let reads = 0;
  for (const dirs of byDepth) {
    const wanted = [...(dirs ?? [])].filter((d) => d === "" || !rules.isIgnored(`${d}/`));
    if (reads + wanted.length > MAX_GITIGNORE_READS) {
      errors.push({ message: `.gitignore files below ${wanted[0]} were not read: more than ${MAX_GITIGNORE_READS} directories in one batch` });
      break;
    }
    reads += wanted.length;
    const read = await fetchGitFiles(host, repo, ref, wanted.map(gitignoreOf), cache);
    for (const [i, [, bytes]] of read.entries()) if (bytes !== null) gitignores.push({ dir: wanted[i] ?? "", text: new TextDecoder().decode(bytes) });
    rules = buildIgnoreRules(gitignores);
  }
  return rules;
}

const gitignoreOf = (dir: string): string => (dir === "" ? ".gitignore" : `${dir}/.gitignore`);

/** Adds paths skipped without a file row (refused, or excluded by a .gitignore) to a batch's outcomes, as uploads count theirs. */
function addSkipped(outcomes: BatchOutcomes, skipped: SkippedView[]): void {
  for (const s of skipped) {
    const key = `skipped:${s.reason}`;
    outcomes.counts[key] = (outcomes.counts[key] ?? 0) + 1;
    outcomes.skipped.push(s);
  }
}

export type LoadedProject = ProjectSettings & {
  name: string;
  repoFullName: string | null;
  gitToken: string | null;
  complianceMode: boolean;
  modelSummaries: "on" | "off" | null;
};

export async function loadProjectSettings(db: Db, projectId: string): Promise<LoadedProject | undefined> {
  // One read: the project with its org's choice for files holding a secret.
  const row = await db
    .select({
      p: tables.projects,
      secretHandling: tables.orgSettings.secretHandling,
      complianceMode: tables.orgSettings.complianceMode,
      modelSummaries: tables.orgSettings.modelSummaries,
    })
    .from(tables.projects)
    .leftJoin(tables.orgSettings, eq(tables.orgSettings.orgId, tables.projects.orgId))
    .where(eq(tables.projects.projectId, projectId))
    .get();
  const p = row?.p;
  // A project being deleted takes no more writes: its remaining messages end at once.
  if (!p || p.deletedAt !== null) return undefined;
  return {
    projectId: p.projectId,
    name: p.name,
    tokenizer: p.tokenizer as Tokenizer,
    chunkTokens: p.chunkTokens,
    overlapTokens: p.overlapTokens,
    maxFileBytes: p.maxFileBytes,
    repoFullName: p.repoFullName,
    gitToken: p.gitToken,
    secretHandling: row.secretHandling === "reject" ? "reject" : "mask",
    complianceMode: row.complianceMode === 1,
    modelSummaries: row.modelSummaries === "on" || row.modelSummaries === "off" ? row.modelSummaries : null,
  };
}
