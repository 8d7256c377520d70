/**
 * A run's workspace as a stream of bounded batches: the snapshot's files in path order (text rebuilt from R2 and
 * binary files read from their blobs, one batch at a time), with the run's change laid over them, then the
 * changed files, then the links.
 */
import type { Db } from "../storage";
import { readBlobs, rebuildFiles, type SnapshotFile, snapshotPage } from "./snapshot";
import { type BatchLimits, DEFAULT_BATCH_LIMITS, inlineBatches, type WorkspaceBatch, type WorkspaceFile, type WorkspaceLink } from "./workspace";

/** What the change did to the snapshot: files written (whole) and paths deleted. */
export type Overlay = { files: WorkspaceFile[]; deletions: string[] };

/** The bytes a file takes in a batch: base64 makes a binary file's 3 bytes 4. */
const batchBytes = (f: SnapshotFile): number => (f.status === "binary" ? Math.ceil(f.sizeBytes / 3) * 4 : f.sizeBytes);

/**
 * Yields the workspace of `snapshotId` with `overlay` applied, each batch within `limits` (by the sizes the
 * catalog recorded; a file larger than `maxBytes` is a batch of its own). Only one batch of content is held.
 * A changed file keeps the executable bit of the file it replaces.
 */
export async function* snapshotBatches(
  db: Db,
  bucket: R2Bucket,
  snapshotId: string,
  overlay: Overlay,
  limits: BatchLimits = DEFAULT_BATCH_LIMITS,
): AsyncGenerator<WorkspaceBatch> {
  const replaced = new Set([...overlay.files.map((f) => f.path), ...overlay.deletions]);
  const executableReplaced = new Set<string>();
  const links: WorkspaceLink[] = [];
  let pending: SnapshotFile[] = [];
  let bytes = 0;
  const flush = async (): Promise<WorkspaceBatch> => {
    const [texts, blobs] = await Promise.all([rebuildFiles(db, bucket, snapshotId, pending), readBlobs(bucket, pending)]);
    const files = pending.flatMap((f): WorkspaceFile[] => {
      const mode = f.executable ? { executable: true } : {};
      const text = texts.get(f.path);
      if (text !== undefined) return [{ path: f.path, content: text, ...mode }];
      const base64 = blobs.get(f.path);
      return base64 === undefined ? [] : [{ path: f.path, content: base64, encoding: "base64", ...mode }];
    });
    pending = [];
    bytes = 0;
    return { files, links: [] };
  };
  let after: string | null = null;
  for (;;) {
    const page = await snapshotPage(db, snapshotId, after, limits.maxFiles);
    for (const f of page) {
      if (replaced.has(f.path)) {
        if (f.executable) executableReplaced.add(f.path);
        continue;
      }
      if (f.status === "link") {
        if (f.linkTarget) links.push({ path: f.path, target: f.linkTarget });
        continue;
      }
      const size = batchBytes(f);
      if (pending.length > 0 && (pending.length >= limits.maxFiles || bytes + size > limits.maxBytes)) yield await flush();
      pending.push(f);
      bytes += size;
    }
    const last = page.at(-1);
    if (!last || page.length < limits.maxFiles) break;
    after = last.path;
  }
  if (pending.length > 0) yield await flush();
  const changed = overlay.files.map((f) => (executableReplaced.has(f.path) && f.executable === undefined ? { ...f, executable: true } : f));
  // Links last, after every file, so no file is ever written through one.
  yield* inlineBatches(changed, links, limits);
}
