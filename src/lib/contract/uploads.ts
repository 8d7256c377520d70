/** Archive uploads, direct and in parts: requests and responses. */
import { z } from "zod";

export const ArchiveFormat = z.enum(["tar.gz", "tar", "zip"]);
export const StartUpload = z.object({ format: ArchiveFormat });
export const PartNumber = z.coerce.number().int().min(1).max(10_000);
export const CompleteUpload = z.object({
  parts: z
    .array(z.object({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(200) }))
    .min(1)
    .max(10_000),
});

/** `waiting`: an earlier upload of the project is still being applied; this one follows it. */
export const ArchiveAccepted = z.object({ jobId: z.string(), files: z.number(), batches: z.number(), status: z.enum(["waiting", "queued"]) });

export const UploadStarted = z.object({
  uploadId: z.string(),
  format: ArchiveFormat,
  partBytes: z.number(),
  minPartBytes: z.number(),
  maxPartBytes: z.number(),
  maxParts: z.number(),
});

export const PartStored = z.object({ partNumber: z.number(), etag: z.string() });

/** A repeated completion answers 200 with the job it started. */
export const UploadCompleted = z.object({
  jobId: z.string(),
  alreadyCompleted: z.boolean(),
  files: z.number().optional(),
  batches: z.number().optional(),
  status: z.string().optional(),
});
