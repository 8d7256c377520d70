/** Does the work of one ingestion queue message: prepare the files, write chunks, commit the batch. */
import { eq } from "drizzle-orm";
import type { ProjectIndex } from "../../../durable-objects/project-index";
import { buildIgnoreRules, decodeFile } from "../chunker";
import { sha256Hex } from "../crypto/hash";
import { fetchFileAt, type GitHost } from "../git-host";
import { type Db, tables } from "../storage";
import type { Tokenizer } from "../tokenizer";
import { indexInShard } from "./index-shard";
import { batchStatus, type FileError, finishBatchStatement } from "./jobs";
import { type IngestMessage, StagedBatch } from "./messages";
import { metadataOnly, type PreparedFile, type ProjectSettings, prepareTextFile } from "./prepare-file";
import { runBatch } from "./stage-upload";
import { writeFiles } from "./write-files";

export type ProcessDeps = { db: Db; bucket: R2Bucket; gitHost: GitHost; projectIndex: DurableObjectNamespace<ProjectIndex> };

// Files fetched from the git host at once for one push message.
const GIT_FETCH_CONCURRENCY = 8;

export class PermanentError extends Error {
  override name = "PermanentError";
}

export async function processMessage(deps: ProcessDeps, msg: IngestMessage): Promise<"done" | "already-done"> {
  const { db } = deps;
  const status = await batchStatus(db, msg.jobId, msg.seq);
  if (status === undefined) throw new PermanentError(`no batch ${msg.seq} for job ${msg.jobId}`);
  if (status !== "queued") return "already-done";

  const job = await db.select().from(tables.ingestJobs).where(eq(tables.ingestJobs.jobId, msg.jobId)).get();
  const project = await loadProjectSettings(db, msg.projectId);
  if (!job || !project || job.projectId !== msg.projectId) throw new PermanentError(`job ${msg.jobId} or its project is gone`);

  const errors: FileError[] = [];
  let prepared: PreparedFile[] = [];
  let removals: string[] = [];

  if (msg.kind === "staged") {
    const obj = await deps.bucket.get(msg.key);
    if (!obj) throw new PermanentError(`staged batch ${msg.key} is missing`);
    const batch = StagedBatch.parse(await obj.json());
    const ignored = new Set(msg.ignored);
    for (const f of batch.files) {
      if (ignored.has(f.path)) continue;
      if (f.text === undefined) {
        prepared.push(metadataOnly(f));
        if (f.skipReason) errors.push({ path: f.path, message: f.skipReason });
      } else prepared.push(await prepareTextFile(project, { path: f.path, sha256: f.sha256, size: f.size, text: f.text }));
    }
  } else if (msg.kind === "git") {
    const fetched = await fetchGitFiles(deps.gitHost, msg.repo, msg.ref, msg.paths);
    const rules = buildIgnoreRules([]);
    for (const [path, bytes] of fetched) {
      if (rules.isIgnored(path)) continue;
      if (bytes === null) {
        removals.push(path);
        continue;
      }
      const one = await prepareBytes(project, path, bytes);
      prepared.push(one);
      if (one.skipReason) errors.push({ path, message: one.skipReason });
    }
  } else {
    removals = msg.paths;
  }

  const written = await writeFiles(deps, msg.projectId, job.createdAt, prepared, removals);
  prepared = [];
  const { statements, stats } = written;
  statements.push(...(await indexInShard(db, { namespace: deps.projectIndex, projectId: msg.projectId, projectName: project.name }, written, job.createdAt)));
  statements.push(finishBatchStatement(db, msg.jobId, msg.seq, stats, errors));
  await runBatch(db, statements);
  if (msg.kind === "staged") await deps.bucket.delete(msg.key);
  return "done";
}

/** One file's bytes as a prepared file: text is chunked, anything else is kept as metadata with a reason. */
export async function prepareBytes(project: ProjectSettings, path: string, bytes: Uint8Array): Promise<PreparedFile> {
  const sha256 = await sha256Hex(bytes);
  if (bytes.byteLength > project.maxFileBytes) {
    return metadataOnly({
      path,
      sha256,
      size: bytes.byteLength,
      binary: false,
      skipReason: `larger than the ${project.maxFileBytes}-byte file limit (${bytes.byteLength} bytes)`,
    });
  }
  const decoded = decodeFile(path, bytes);
  if (decoded.kind === "binary") return metadataOnly({ path, sha256, size: bytes.byteLength, binary: true });
  if (decoded.kind === "invalid-utf8") return metadataOnly({ path, sha256, size: bytes.byteLength, binary: false, skipReason: "not valid UTF-8 text" });
  return prepareTextFile(project, { path, sha256, size: bytes.byteLength, text: decoded.text });
}

async function fetchGitFiles(host: GitHost, repo: string, ref: string, paths: string[]): Promise<[string, Uint8Array | null][]> {
  const out: [string, Uint8Array | null][] = [];
  for (let i = 0; i < paths.length; i += GIT_FETCH_CONCURRENCY) {
    const part = paths.slice(i, i + GIT_FETCH_CONCURRENCY);
    const got = await Promise.all(part.map((p) => fetchFileAt(host, repo, ref, p)));
    for (const [j, p] of part.entries()) out.push([p, got[j] ?? null]);
  }
  return out;
}

export async function loadProjectSettings(db: Db, projectId: string): Promise<(ProjectSettings & { name: string }) | undefined> {
  const p = await db.select().from(tables.projects).where(eq(tables.projects.projectId, projectId)).get();
  if (!p) return undefined;
  return {
    projectId: p.projectId,
    name: p.name,
    tokenizer: p.tokenizer as Tokenizer,
    chunkTokens: p.chunkTokens,
    overlapTokens: p.overlapTokens,
    maxFileBytes: p.maxFileBytes,
  };
}
