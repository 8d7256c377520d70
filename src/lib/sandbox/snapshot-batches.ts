/**
 * A run's workspace as a stream of bounded batches: the snapshot's files in path order (rebuilt from R2 one
 * batch at a time), with the run's change laid over them, then the changed files, then the links.
 */
import type { Db } from "../storage";
import { rebuildFiles, type SnapshotFile, snapshotPage } from "./snapshot";
import { type BatchLimits, DEFAULT_BATCH_LIMITS, inlineBatches, type WorkspaceBatch, type WorkspaceFile, type WorkspaceLink } from "./workspace";

/** What the change did to the snapshot: files written (whole) and paths deleted. */
export type Overlay = { files: WorkspaceFile[]; deletions: string[] };

/**
 * Yields the workspace of `snapshotId` with `overlay` applied, each batch within `limits` (by the sizes the
 * catalog recorded; a file larger than `maxBytes` is a batch of its own). Only one batch of text is held.
 */
export async function* snapshotBatches(
  db: Db,
  bucket: R2Bucket,
  snapshotId: string,
  overlay: Overlay,
  limits: BatchLimits = DEFAULT_BATCH_LIMITS,
): AsyncGenerator<WorkspaceBatch> {
  const replaced = new Set([...overlay.files.map((f) => f.path), ...overlay.deletions]);
  const links: WorkspaceLink[] = [];
  let pending: SnapshotFile[] = [];
  let bytes = 0;
  const flush = async (): Promise<WorkspaceBatch> => {
    const texts = await rebuildFiles(db, bucket, snapshotId, pending);
    const files = pending.flatMap((f) => {
      const content = texts.get(f.path);
      return content === undefined ? [] : [{ path: f.path, content }];
    });
    pending = [];
    bytes = 0;
    return { files, links: [] };
  };
  let after: string | null = null;
  for (;;) {
    const page = await snapshotPage(db, snapshotId, after, limits.maxFiles);
    for (const f of page) {
      if (replaced.has(f.path)) continue;
      if (f.status === "link") {
        if (f.linkTarget) links.push({ path: f.path, target: f.linkTarget });
        continue;
      }
      if (pending.length > 0 && (pending.length >= limits.maxFiles || bytes + f.sizeBytes > limits.maxBytes)) yield await flush();
      pending.push(f);
      bytes += f.sizeBytes;
    }
    const last = page.at(-1);
    if (!last || page.length < limits.maxFiles) break;
    after = last.path;
  }
  if (pending.length > 0) yield await flush();
  // Links last, after every file, so no file is ever written through one.
  yield* inlineBatches(overlay.files, links, limits);
}
