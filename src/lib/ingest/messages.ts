/** Queue messages of the ingestion pipeline; every message is validated before it is acted on. */
import { z } from "zod";
import { FILE_STATUSES, SKIP_REASONS } from "../storage/schema";

const base = {
  jobId: z.string().min(1).max(64),
  projectId: z.string().min(1).max(64),
  seq: z.number().int().min(0),
};

export const IngestMessage = z.discriminatedUnion("kind", [
  /** Files unpacked from an upload, staged as one R2 object. */
  z.object({ kind: z.literal("staged"), ...base, key: z.string().min(1), ignored: z.array(z.string()) }),
  /** Paths to fetch from the git host at a commit (a push webhook). */
  z.object({ kind: z.literal("git"), ...base, repo: z.string().min(3), ref: z.string().min(1), paths: z.array(z.string().min(1)).min(1) }),
  /** Paths that left the tree. */
  z.object({ kind: z.literal("remove"), ...base, paths: z.array(z.string().min(1)).min(1) }),
]);
export type IngestMessage = z.infer<typeof IngestMessage>;

/** One staged batch of an upload, as stored in R2: every entry with the outcome staging decided for it. */
export const StagedBatch = z.object({
  files: z.array(
    z.object({
      path: z.string().min(1),
      size: z.number().int().min(0),
      sha256: z.string(),
      status: z.enum(FILE_STATUSES),
      /** Decoded text of a text entry (UTF-8, whatever the source encoding was). */
      text: z.string().optional(),
      encoding: z.string().optional(),
      linkTarget: z.string().optional(),
      skipReason: z.enum(SKIP_REASONS).optional(),
      skipDetail: z.string().optional(),
      /** The entry's executable bit (absent: the source did not say). */
      executable: z.boolean().optional(),
      /** A binary entry's bytes in base64 (up to MAX_BLOB_BYTES), stored as the project's blob by the consumer. */
      bytes: z.string().optional(),
    }),
  ),
});
export type StagedBatch = z.infer<typeof StagedBatch>;
export type StagedFile = StagedBatch["files"][number];

/** Paths per removal message: 400 paths of 250 bytes stay far below the 128 KB message limit. */
export const REMOVALS_PER_MESSAGE = 400;

export function stagingKey(projectId: string, jobId: string, seq: number): string {
  return `staging/${projectId}/${jobId}/${seq}.json`;
}
