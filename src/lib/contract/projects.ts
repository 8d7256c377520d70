/** Projects: requests and responses of /api/projects and its files, records and repository link. */
import { z } from "zod";
import { DEFAULT_ARCHIVE_LIMITS } from "../archive/limits";
import { ContextLimitSetting } from "../governance";
import { LinkRepository } from "../projects/link-repository";
import { MAX_PROJECTS_PAGE } from "../projects/list-projects";
import { Conversation, Logs } from "../projects/records";
import { FILE_STATUSES } from "../storage/schema";
import { TOKENIZERS, type Tokenizer } from "../tokenizer/count-tokens";
import { IsoTime, NextCursor } from "./common";

export { Conversation, LinkRepository, Logs };

// Checks run by sandbox runs that name none; null clears them (detection from the files takes over).
const CheckCommands = z.array(z.string().trim().min(1).max(4096)).min(1).max(20).nullable();
// The sandbox install phase's commands (network only to the configured registries); null: picked from the lockfiles.
const InstallCommands = z.array(z.string().trim().min(1).max(4096)).min(1).max(10).nullable();
export const UpdateProject = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  checkCommands: CheckCommands.optional(),
  installCommands: InstallCommands.optional(),
  maxContextTokens: ContextLimitSetting.optional(),
  generationEnabled: z.boolean().optional(),
});

// The spec's chunk size is 8,000 tokens and its overlap 128-512; both are per-project settings.
export const CreateProject = z
  .object({
    name: z.string().trim().min(1).max(200),
    tokenizer: z.enum(TOKENIZERS as [Tokenizer, ...Tokenizer[]]).optional(),
    chunkTokens: z.number().int().min(256).max(32_000).default(8_000),
    overlapTokens: z.number().int().min(128).max(512).default(256),
    maxFileBytes: z
      .number()
      .int()
      .min(1024)
      .max(8 * 1024 * 1024)
      .default(DEFAULT_ARCHIVE_LIMITS.maxFileBytes),
    checkCommands: CheckCommands.optional(),
    installCommands: InstallCommands.optional(),
  })
  .refine((p) => p.overlapTokens < p.chunkTokens / 2, { message: "overlapTokens must be under half of chunkTokens", path: ["overlapTokens"] });

export const FilesQuery = z.object({
  cursor: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
  status: z.enum(FILE_STATUSES).optional(),
});

export const ProjectsQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PROJECTS_PAGE).default(50),
});

export const ProjectCreated = z.object({ projectId: z.string() });

const Repository = z.object({
  fullName: z.string(),
  branch: z.string().nullable(),
  credential: z.enum(["token", "none"]),
  webhookPath: z.string(),
});

export const ProjectView = z
  .object({
    projectId: z.string(),
    name: z.string(),
    tokenizer: z.string(),
    chunkTokens: z.number(),
    overlapTokens: z.number(),
    maxFileBytes: z.number(),
    repository: Repository.nullable(),
    checkCommands: z.array(z.string()).nullable(),
    installCommands: z.array(z.string()).nullable().describe("the sandbox install phase's commands; null: picked from the lockfiles"),
    maxContextTokens: z.number().nullable().describe("the project's context budget limit (the org's, when lower, applies too)"),
    generationEnabled: z.boolean(),
    createdAt: IsoTime,
  })
  .meta({ id: "Project" });

export const JOB_STATUSES = ["waiting", "queued", "running", "done", "failed"] as const;

export const ProjectListItem = ProjectView.extend({
  files: z.number(),
  tokens: z.number(),
  lastJob: z.object({ jobId: z.string(), source: z.string(), status: z.enum(JOB_STATUSES), createdAt: IsoTime, finishedAt: IsoTime.nullable() }).nullable(),
  freshness: z.object({ basis: z.enum(["upload", "push", "job"]), at: IsoTime }).nullable(),
}).meta({ id: "ProjectListItem" });

export const ProjectList = z.object({ projects: z.array(ProjectListItem), nextCursor: NextCursor });

export const SecretFinding = z.object({ ruleId: z.string(), startLine: z.number(), endLine: z.number() }).meta({ id: "SecretFinding" });

export const FileList = z.object({
  files: z.array(
    z.object({
      path: z.string(),
      sha256: z.string(),
      sizeBytes: z.number(),
      tokenCount: z.number(),
      binary: z.boolean(),
      type: z.string(),
      status: z.enum(FILE_STATUSES),
      encoding: z.string().nullable(),
      linkTarget: z.string().nullable(),
      skipReason: z.string().nullable(),
      skipDetail: z.string().nullable(),
      secrets: z.array(SecretFinding),
      chunkIds: z.array(z.string()),
      updatedAt: IsoTime,
    }),
  ),
  nextCursor: NextCursor,
});

export const StoredRecord = z.object({
  path: z.string(),
  type: z.enum(["conversation", "log"]),
  tokens: z.number(),
  chunks: z.array(z.object({ chunkId: z.string(), tokenCount: z.number(), startLine: z.number(), endLine: z.number(), severity: z.string().nullable() })),
});

export const RepositoryLinked = z.object({
  repository: Repository.nullable(),
  webhookSecret: z.string().describe("shown once: the HMAC secret to set on the repository's webhook"),
  webhookPath: z.string(),
});

export const DeletionStarted = z.object({ jobId: z.string() });

export const SummaryBackfillView = z.object({
  backfillId: z.string().describe("the id its queue messages carry"),
  files: z.number().describe("files queued: those whose current content has no model summary done or reused"),
  messages: z.number(),
});

export const SummaryReportView = z.object({
  projectId: z.string(),
  enabled: z.boolean().describe("whether new and changed files get model-written summaries now"),
  reason: z.string().nullable().describe("why not, when not: no key, compliance mode, the org's setting, a model the org does not allow"),
  model: z.string(),
  budgetUsd: z.number().nullable().describe("what the project may spend on them per UTC month"),
  spentUsdThisMonth: z.number(),
  files: z.number().describe("text files in the index"),
  modelSummaries: z.number().describe("files whose current content has a model-written summary"),
  pending: z.number().describe("files not yet through the queue (or indexed while summaries were off)"),
  byStatus: z.object({
    done: z.number(),
    reused: z.number().describe("content summarised before, in this project: no call"),
    failed: z.number(),
    budget: z.number().describe("stopped by the monthly budget or the org's spend quota"),
    skipped: z.number(),
  }),
  directories: z.number(),
  modelDirectories: z.number(),
  failures: z
    .array(z.object({ path: z.string(), detail: z.string(), at: z.number() }))
    .describe("the latest files left with their extractive summary, and why"),
});
