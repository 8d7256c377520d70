/** What a sandbox writes into a run's workspace, a bounded batch at a time: files first, links after all files. */
export type WorkspaceFile = {
  path: string;
  /** The file's text, or its bytes in base64 when `encoding` says so (a binary file). */
  content: string;
  encoding?: "base64" | undefined;
  /** Written with the executable bit set (0755 instead of 0644). */
  executable?: boolean | undefined;
};
export type WorkspaceLink = { path: string; target: string };
export type WorkspaceBatch = { files: WorkspaceFile[]; links: WorkspaceLink[] };

/** Limits of one batch: it closes at whichever comes first (a single larger file is a batch of its own). */
export type BatchLimits = { maxFiles: number; maxBytes: number };

// 200 files or 4 MiB of content per batch (binary files count as their base64): a Worker holds one batch (plus the
// one the runner is writing) at a time, far under its 128 MB, and a 10M-token project (~40 MB) takes about ten
// round trips of R2 reads. A binary file of up to 16 MiB (MAX_BLOB_BYTES, ~21 MiB base64) is a batch of its own.
export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxFiles: 200, maxBytes: 4 * 1024 * 1024 };

/** Inline files and links as batches (small inputs built in memory: tests, the runner's JSON requests). */
export async function* inlineBatches(
  files: readonly WorkspaceFile[],
  links: readonly WorkspaceLink[],
  limits = DEFAULT_BATCH_LIMITS,
): AsyncGenerator<WorkspaceBatch> {
  let batch: WorkspaceFile[] = [];
  let bytes = 0;
  for (const f of files) {
    if (batch.length > 0 && (batch.length >= limits.maxFiles || bytes + f.content.length > limits.maxBytes)) {
      yield { files: batch, links: [] };
      batch = [];
      bytes = 0;
    }
    batch.push(f);
    bytes += f.content.length;
  }
  if (batch.length > 0 || links.length > 0) yield { files: batch, links: [...links] };
}
