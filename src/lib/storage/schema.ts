/** D1 catalog schema (drizzle). Every table that grows with use is keyed by project first. */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const now = sql`(unixepoch('subsec') * 1000)`;

export const orgs = sqliteTable("orgs", {
  orgId: text("org_id").primaryKey(),
  name: text("name").notNull(),
  createdAt: integer("created_at").notNull().default(now),
});

/** API keys are stored as SHA-256 of the token; the token itself is shown once. */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    keyId: text("key_id").primaryKey(),
    orgId: text("org_id").notNull(),
    keyHash: text("key_hash").notNull(),
    name: text("name").notNull(),
    createdAt: integer("created_at").notNull().default(now),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_hash").on(t.keyHash), index("api_keys_org").on(t.orgId)],
);

export const projects = sqliteTable(
  "projects",
  {
    projectId: text("project_id").primaryKey(),
    orgId: text("org_id").notNull(),
    name: text("name").notNull(),
    tokenizer: text("tokenizer").notNull(),
    chunkTokens: integer("chunk_tokens").notNull(),
    overlapTokens: integer("overlap_tokens").notNull(),
    maxFileBytes: integer("max_file_bytes").notNull(),
    repoFullName: text("repo_full_name"),
    repoBranch: text("repo_branch"),
    webhookSecret: text("webhook_secret"),
    gitToken: text("git_token"),
    /** JSON array of the checks a sandbox run executes when the request names none. */
    checkCommands: text("check_commands"),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [index("projects_org").on(t.orgId), index("projects_repo").on(t.repoFullName)],
);

export const files = sqliteTable(
  "files",
  {
    projectId: text("project_id").notNull(),
    path: text("path").notNull(),
    sha256: text("sha256").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    tokenCount: integer("token_count").notNull(),
    binary: integer("binary", { mode: "boolean" }).notNull(),
    type: text("type").notNull(),
    skipReason: text("skip_reason"),
    chunkCount: integer("chunk_count").notNull(),
    /** Creation time of the job that wrote this row: an older job's late message never overwrites a newer one. */
    jobCreatedAt: integer("job_created_at").notNull(),
    updatedAt: integer("updated_at").notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.path] })],
);

export const chunks = sqliteTable(
  "chunks",
  {
    chunkId: text("chunk_id").primaryKey(),
    projectId: text("project_id").notNull(),
    path: text("path").notNull(),
    ordinal: integer("ordinal").notNull(),
    startLine: integer("start_line").notNull(),
    endLine: integer("end_line").notNull(),
    byteOffset: integer("byte_offset").notNull(),
    byteLength: integer("byte_length").notNull(),
    tokenCount: integer("token_count").notNull(),
    sha256: text("sha256").notNull(),
    r2Key: text("r2_key").notNull(),
    type: text("type").notNull(),
    severity: text("severity"),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [uniqueIndex("chunks_project_path_ordinal").on(t.projectId, t.path, t.ordinal), index("chunks_project_sha").on(t.projectId, t.sha256)],
);

export const summaries = sqliteTable(
  "summaries",
  {
    summaryId: text("summary_id").primaryKey(),
    projectId: text("project_id").notNull(),
    path: text("path").notNull(),
    level: text("level", { enum: ["chunk", "file", "directory", "project"] }).notNull(),
    content: text("content").notNull(),
    tokenCount: integer("token_count").notNull(),
    sha256: text("sha256").notNull(),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [index("summaries_project_level_path").on(t.projectId, t.level, t.path)],
);

export const contextSessions = sqliteTable(
  "context_sessions",
  {
    sessionId: text("session_id").primaryKey(),
    projectId: text("project_id").notNull(),
    orgId: text("org_id").notNull(),
    userId: text("user_id"),
    chunksUsed: text("chunks_used").notNull(),
    tokensAtCall: integer("tokens_at_call").notNull(),
    model: text("model").notNull(),
    resultMeta: text("result_meta"),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [index("context_sessions_project").on(t.projectId, t.createdAt)],
);

export const ingestJobs = sqliteTable(
  "ingest_jobs",
  {
    jobId: text("job_id").primaryKey(),
    projectId: text("project_id").notNull(),
    orgId: text("org_id").notNull(),
    source: text("source", { enum: ["upload", "webhook", "conversation", "log"] }).notNull(),
    batchCount: integer("batch_count").notNull(),
    filesTotal: integer("files_total").notNull(),
    filesUnchanged: integer("files_unchanged").notNull(),
    filesIgnored: integer("files_ignored").notNull(),
    error: text("error"),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [index("ingest_jobs_project").on(t.projectId, t.createdAt)],
);

/** One row per queue message of a job; re-delivery overwrites the same row, so counts never double. */
export const jobBatches = sqliteTable(
  "job_batches",
  {
    jobId: text("job_id").notNull(),
    seq: integer("seq").notNull(),
    status: text("status", { enum: ["queued", "done", "failed"] }).notNull(),
    filesDone: integer("files_done").notNull().default(0),
    filesSkipped: integer("files_skipped").notNull().default(0),
    filesRemoved: integer("files_removed").notNull().default(0),
    chunks: integer("chunks").notNull().default(0),
    chunksWritten: integer("chunks_written").notNull().default(0),
    tokens: integer("tokens").notNull().default(0),
    errors: text("errors").notNull().default("[]"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    finishedAt: integer("finished_at"),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.seq] })],
);

/** Sandbox runs: inputs, commands and outcome, kept so a run can be replayed and compared. */
export const sandboxRuns = sqliteTable(
  "sandbox_runs",
  {
    runId: text("run_id").primaryKey(),
    projectId: text("project_id").notNull(),
    orgId: text("org_id").notNull(),
    request: text("request").notNull(),
    status: text("status", { enum: ["running", "passed", "failed", "error"] }).notNull(),
    results: text("results"),
    artifacts: text("artifacts"),
    error: text("error"),
    replayOf: text("replay_of"),
    createdAt: integer("created_at").notNull().default(now),
    finishedAt: integer("finished_at"),
  },
  (t) => [index("sandbox_runs_project").on(t.projectId, t.createdAt)],
);
