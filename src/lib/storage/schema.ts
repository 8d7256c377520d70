/** D1 catalog schema (drizzle). Every table that grows with use is keyed by project first. */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { RUN_STATUSES } from "../sandbox/run-status";

const now = sql`(unixepoch('subsec') * 1000)`;

export const FILE_STATUSES = ["text", "binary", "link", "skipped"] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];

/** Why an entry of an upload or push was not indexed; the whole upload goes on without it. */
export const SKIP_REASONS = [
  "symlink",
  "hardlink",
  "special file",
  "too large",
  "ignored",
  "path too long",
  "duplicate path",
  "invalid path",
  "contains secrets",
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

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
    /** The token's first characters, shown in listings so a key can be recognised; never enough to use it. */
    prefix: text("prefix").notNull().default(""),
    /** JSON array of scopes (src/lib/auth/scopes.ts); keys made before scopes existed hold every scope. */
    scopes: text("scopes").notNull().default('["read","ingest","generate","sandbox","admin"]'),
    /** JSON array of the project ids the key may touch; null for every project of the org. */
    projectIds: text("project_ids"),
    expiresAt: integer("expires_at"),
    /** The key that minted this one; null for an org's first key (minted with the operator's bootstrap token). */
    createdBy: text("created_by"),
    lastUsedAt: integer("last_used_at"),
    createdAt: integer("created_at").notNull().default(now),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_hash").on(t.keyHash), index("api_keys_org").on(t.orgId, t.createdAt)],
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
    /** The org's access token for the linked repository, sealed (src/lib/crypto/seal.ts); null: fetched without one (public). */
    gitToken: text("git_token"),
    /** The newest commit a push enqueued for indexing: a push of it again, or of an older commit, is ignored. */
    pushedCommit: text("pushed_commit"),
    /** JSON array of the checks a sandbox run executes when the request names none. */
    checkCommands: text("check_commands"),
    /** JSON array of the sandbox install phase's commands; null: picked from the lockfiles. */
    installCommands: text("install_commands"),
    createdAt: integer("created_at").notNull().default(now),
    /** Set when a deletion starts: the project reads as missing from then on while its data is removed. */
    deletedAt: integer("deleted_at"),
    /** The upload job applying its tree now (one at a time per project; see src/lib/ingest/tree-order.ts), and since when. */
    treeJobId: text("tree_job_id"),
    treeClaimedAt: integer("tree_claimed_at"),
    /** The largest context budget a request for this project may ask for; null: the org's limit alone. */
    maxContextTokens: integer("max_context_tokens"),
    /** 1: generation may run for this project; new projects take the org's `generation_default`. */
    generationEnabled: integer("generation_enabled").notNull().default(1),
  },
  (t) => [index("projects_org").on(t.orgId, t.createdAt), index("projects_repo").on(t.repoFullName)],
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
    /** What ingestion did with the entry: chunked text, binary metadata, a recorded link, or skipped with a reason. */
    status: text("status", { enum: FILE_STATUSES }).notNull().default("text"),
    /** The encoding text was decoded from, when not UTF-8 (e.g. "windows-1252", "utf-16le"). */
    encoding: text("encoding"),
    /** A symbolic link's target, as stored in the archive (never followed). */
    linkTarget: text("link_target"),
    /** Why a skipped entry was skipped: one of SKIP_REASONS. */
    skipReason: text("skip_reason"),
    /** The human-readable detail of a skip (sizes, the link target that left the root, ...). */
    skipDetail: text("skip_detail"),
    /** JSON array of the secrets found in the file ({ ruleId, startLine, endLine }; never a value), masked in its chunks. */
    secrets: text("secrets"),
    chunkCount: integer("chunk_count").notNull(),
    /**
     * The executable bit from the archive (tar mode, zip external attributes); null where the source did not say
     * (a push's file fetched by path, rows from before 0020): an upsert keeps the recorded bit then.
     */
    executable: integer("executable", { mode: "boolean" }),
    /** Where a binary file's bytes are in R2 (content-addressed like chunk text, `blobKey`); null when they were not kept. */
    blobKey: text("blob_key"),
    /** Creation time of the job that wrote this row: an older job's late message never overwrites a newer one. */
    jobCreatedAt: integer("job_created_at").notNull(),
    updatedAt: integer("updated_at").notNull().default(now),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.path] }),
    index("files_project_status").on(t.projectId, t.status, t.path),
    index("files_project_blob").on(t.projectId, t.blobKey),
  ],
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
    /** The encoding of the source file when it was not UTF-8; the chunk text itself is always UTF-8. */
    encoding: text("encoding"),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [uniqueIndex("chunks_project_path_ordinal").on(t.projectId, t.path, t.ordinal), index("chunks_project_sha").on(t.projectId, t.sha256)],
);

/**
 * Chunks replaced or removed by a later ingest. A chunk id recorded in an audit row or a generation keeps
 * resolving (as superseded) until the org's retention removes the row; its R2 object is kept as long.
 */
export const retiredChunks = sqliteTable(
  "retired_chunks",
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
    encoding: text("encoding"),
    createdAt: integer("created_at").notNull(),
    retiredAt: integer("retired_at").notNull(),
  },
  (t) => [index("retired_chunks_project_retired").on(t.projectId, t.retiredAt), index("retired_chunks_project_sha").on(t.projectId, t.sha256)],
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
    source: text("source", { enum: ["upload", "webhook", "conversation", "log", "delete"] }).notNull(),
    batchCount: integer("batch_count").notNull(),
    filesTotal: integer("files_total").notNull(),
    filesUnchanged: integer("files_unchanged").notNull(),
    filesIgnored: integer("files_ignored").notNull(),
    /** Entries left out because an earlier entry of the archive had the same path. */
    filesDuplicate: integer("files_duplicate").notNull().default(0),
    /** JSON: the first skipped entries decided at staging (ignored, duplicate paths), `[{path, reason}]`, at most 100. */
    skippedSample: text("skipped_sample").notNull().default("[]"),
    error: text("error"),
    createdAt: integer("created_at").notNull().default(now),
  },
  // created_at alone: readiness looks at the last day's jobs across projects, a bounded range scan.
  (t) => [index("ingest_jobs_project").on(t.projectId, t.createdAt), index("ingest_jobs_created").on(t.createdAt)],
);

/** One row per queue message of a job; re-delivery overwrites the same row, so counts never double. */
export const jobBatches = sqliteTable(
  "job_batches",
  {
    jobId: text("job_id").notNull(),
    seq: integer("seq").notNull(),
    /** `waiting`: an upload's batch held until the project's earlier upload is applied (tree-order.ts). */
    status: text("status", { enum: ["waiting", "queued", "done", "failed"] }).notNull(),
    filesDone: integer("files_done").notNull().default(0),
    filesSkipped: integer("files_skipped").notNull().default(0),
    filesRemoved: integer("files_removed").notNull().default(0),
    chunks: integer("chunks").notNull().default(0),
    chunksWritten: integer("chunks_written").notNull().default(0),
    tokens: integer("tokens").notNull().default(0),
    errors: text("errors").notNull().default("[]"),
    /** JSON: counts per outcome (`text`, `decoded`, `binary`, `link`, `skipped:<reason>`). */
    outcomes: text("outcomes").notNull().default("{}"),
    /** JSON: the batch's skipped entries `[{path, reason, detail?}]`, at most 100. */
    skipped: text("skipped").notNull().default("[]"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    finishedAt: integer("finished_at"),
    /** The batch's queue message as sent, so the watchdog can send it again. */
    message: text("message"),
    /** Last time anything happened to the batch (enqueued, an attempt failed, re-enqueued). */
    updatedAt: integer("updated_at"),
    /** Times the watchdog re-sent the message because the batch made no progress. */
    requeues: integer("requeues").notNull().default(0),
    /** When the watchdog first found the batch stalled; null while it makes progress. */
    stalledSince: integer("stalled_since"),
  },
  (t) => [
    primaryKey({ columns: [t.jobId, t.seq] }),
    // Queued batches only (the backlog, not the history): readiness probes each recent job through it
    // without reading the done batches of large jobs.
    index("job_batches_queued").on(t.jobId).where(sql`${t.status} = 'queued'`),
  ],
);

/** Sandbox runs: inputs, commands and outcome, kept so a run can be replayed and compared. */
export const sandboxRuns = sqliteTable(
  "sandbox_runs",
  {
    runId: text("run_id").primaryKey(),
    projectId: text("project_id").notNull(),
    orgId: text("org_id").notNull(),
    request: text("request").notNull(),
    status: text("status", { enum: RUN_STATUSES }).notNull(),
    results: text("results"),
    artifacts: text("artifacts"),
    error: text("error"),
    replayOf: text("replay_of"),
    /** The snapshot the run's workspace is materialised from (sandbox_snapshot_files/_chunks); a replay shares its original's. */
    snapshotId: text("snapshot_id"),
    createdAt: integer("created_at").notNull().default(now),
    finishedAt: integer("finished_at"),
  },
  (t) => [index("sandbox_runs_project").on(t.projectId, t.createdAt), index("sandbox_runs_org_status").on(t.orgId, t.status)],
);

/**
 * A sandbox snapshot's files as of the run that took it: copies of the project's file rows (text files, binary files whose bytes were kept, links),
 * so the run and its replays see the same tree however the project changes later.
 */
export const sandboxSnapshotFiles = sqliteTable(
  "sandbox_snapshot_files",
  {
    snapshotId: text("snapshot_id").notNull(),
    projectId: text("project_id").notNull(),
    path: text("path").notNull(),
    status: text("status", { enum: FILE_STATUSES }).notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    linkTarget: text("link_target"),
    /** Written with the executable bit set. */
    executable: integer("executable", { mode: "boolean" }).notNull().default(false),
    /** A binary file's bytes in R2; garbage collection keeps every blob a row here names. */
    blobKey: text("blob_key"),
  },
  (t) => [
    primaryKey({ columns: [t.snapshotId, t.path] }),
    index("sandbox_snapshot_files_project").on(t.projectId),
    index("sandbox_snapshot_files_project_blob").on(t.projectId, t.blobKey),
  ],
);

/**
 * A sandbox snapshot's chunks (where each file's text lives in R2). Chunk objects are content-addressed;
 * garbage collection keeps every object a row here names (src/lib/retention/gc.ts).
 */
export const sandboxSnapshotChunks = sqliteTable(
  "sandbox_snapshot_chunks",
  {
    snapshotId: text("snapshot_id").notNull(),
    projectId: text("project_id").notNull(),
    path: text("path").notNull(),
    ordinal: integer("ordinal").notNull(),
    byteOffset: integer("byte_offset").notNull(),
    sha256: text("sha256").notNull(),
    r2Key: text("r2_key").notNull(),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.path, t.ordinal] }), index("sandbox_snapshot_chunks_project_sha").on(t.projectId, t.sha256)],
);

/** Per-org settings; absent rows mean the documented defaults. */
export const orgSettings = sqliteTable("org_settings", {
  orgId: text("org_id").primaryKey(),
  /** Days audit rows (context_sessions) and retired chunks are kept. */
  auditRetentionDays: integer("audit_retention_days"),
  /** Days sandbox runs and their R2 inputs and results are kept. */
  sandboxRunRetentionDays: integer("sandbox_run_retention_days"),
  /** Days an idle session and its event log are kept. */
  sessionRetentionDays: integer("session_retention_days"),
  /** What ingestion does with a text file holding a detected secret: "mask" it (default) or "reject" the file. */
  secretHandling: text("secret_handling"),
  /** The largest context budget any request of the org may ask for; null: the API's own maximum. */
  maxContextTokens: integer("max_context_tokens"),
  /** JSON array of the model ids requests may name; null: any model. */
  allowedModels: text("allowed_models"),
  /** "off": new projects start with generation disabled (opt-in); null or "on": enabled. */
  generationDefault: text("generation_default"),
  /** 1: no request leaves for an external model or embedding service. */
  complianceMode: integer("compliance_mode").notNull().default(0),
  /** "on"/"off": model-written file and directory summaries at ingestion; null: the deployment's default (MODEL_SUMMARIES). */
  modelSummaries: text("model_summaries"),
  /** USD a project may spend on model-written summaries per UTC month; null: the default. */
  summaryBudgetUsd: real("summary_budget_usd"),
  /** 1: assemblies rerank their top candidates with a small model unless the request says otherwise. */
  rerank: integer("rerank").notNull().default(0),
  /** 1: sandbox installs may run package install scripts (npm lifecycle scripts, pip source builds); default off. */
  allowInstallScripts: integer("allow_install_scripts").notNull().default(0),
  updatedAt: integer("updated_at").notNull().default(now),
});

/** Sessions by project, so deleting a project (or retention) can reach every session object it owns. */
export const sessions = sqliteTable(
  "sessions",
  {
    sessionId: text("session_id").primaryKey(),
    projectId: text("project_id").notNull(),
    orgId: text("org_id").notNull(),
    createdAt: integer("created_at").notNull().default(now),
    lastActiveAt: integer("last_active_at").notNull().default(now),
  },
  (t) => [index("sessions_project").on(t.projectId), index("sessions_org_active").on(t.orgId, t.lastActiveAt)],
);

/** Large uploads: an R2 multipart upload the API starts, takes parts for, and completes into a job. */
export const uploads = sqliteTable(
  "uploads",
  {
    uploadId: text("upload_id").primaryKey(),
    projectId: text("project_id").notNull(),
    orgId: text("org_id").notNull(),
    r2Key: text("r2_key").notNull(),
    r2UploadId: text("r2_upload_id").notNull(),
    format: text("format").notNull(),
    status: text("status", { enum: ["open", "completed", "aborted"] }).notNull(),
    bytes: integer("bytes").notNull().default(0),
    jobId: text("job_id"),
    createdAt: integer("created_at").notNull().default(now),
    updatedAt: integer("updated_at").notNull().default(now),
  },
  (t) => [index("uploads_project").on(t.projectId), index("uploads_status_updated").on(t.status, t.updatedAt)],
);

/** Where each bounded maintenance pass (retention, garbage collection) stopped, so the next run goes on from there. */
export const maintenanceCursors = sqliteTable("maintenance_cursors", {
  name: text("name").primaryKey(),
  /** An R2 list cursor or the last key processed; null once a pass has gone through everything. */
  cursor: text("cursor"),
  updatedAt: integer("updated_at").notNull().default(now),
});

/**
 * GitHub deliveries already accepted (`X-GitHub-Delivery`), so a replayed delivery changes nothing; kept
 * 7 days (maintenance deletes older ones).
 */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    projectId: text("project_id").notNull(),
    deliveryId: text("delivery_id").notNull(),
    receivedAt: integer("received_at").notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.deliveryId] }), index("webhook_deliveries_received").on(t.receivedAt)],
);

/**
 * Who did what: one row per state change, assembly and generation (and refused attempts by a known key),
 * append-only; never content. Kept per the org's audit retention.
 */
export const auditLog = sqliteTable(
  "audit_log",
  {
    auditId: text("audit_id").primaryKey(),
    orgId: text("org_id").notNull(),
    /** `key` (an API key), `operator` (the bootstrap token) or `webhook` (a signed delivery). */
    actor: text("actor").notNull(),
    /** The API key, for actor `key`; the creating key stays named after it is revoked. */
    keyId: text("key_id"),
    /** The route as declared, e.g. `DELETE /api/keys/:keyId`. */
    action: text("action").notNull(),
    /** The project acted on, when there is one (for filtering). */
    projectId: text("project_id"),
    /** JSON object of the ids acted on (route parameters, the project, a delivery id). */
    targets: text("targets").notNull(),
    requestId: text("request_id").notNull(),
    status: integer("status").notNull(),
    /** `ok` (2xx/3xx), `refused` (4xx) or `failed` (5xx). */
    outcome: text("outcome").notNull(),
    at: integer("at").notNull().default(now),
  },
  (t) => [index("audit_log_org_at").on(t.orgId, t.at)],
);

/** An org's quotas as its admins set them (JSON of OrgLimits fields; a field left out takes the default). */
export const orgLimits = sqliteTable("org_limits", {
  orgId: text("org_id").primaryKey(),
  limits: text("limits").notNull(),
  updatedAt: integer("updated_at").notNull().default(now),
});

/**
 * What an org used, per UTC day, project, key, model and kind: tokens assembled, model spend (micro-dollars),
 * sandbox time and requests metered. Rows are incremented in place; quotas read today's and this month's.
 */
export const usageDaily = sqliteTable(
  "usage_daily",
  {
    orgId: text("org_id").notNull(),
    /** YYYY-MM-DD (UTC). */
    day: text("day").notNull(),
    projectId: text("project_id").notNull().default(""),
    keyId: text("key_id").notNull().default(""),
    model: text("model").notNull().default(""),
    /** What the use was for when it is not the request itself: "summary" (model-written summaries), "rerank"; "" otherwise. */
    kind: text("kind").notNull().default(""),
    tokensAssembled: integer("tokens_assembled").notNull().default(0),
    costMicroUsd: integer("cost_micro_usd").notNull().default(0),
    sandboxMs: integer("sandbox_ms").notNull().default(0),
    requests: integer("requests").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.day, t.projectId, t.keyId, t.model, t.kind] })],
);

/**
 * The local metrics store (src/lib/metrics/d1-store.ts): one row per org, UTC day, project, metric and
 * bucket, added to on every event, so it grows with days and projects, never with traffic. `bucket` is a
 * latency bucket or a status class, 0 where the metric has none; `sum` is what the events added up to.
 */
export const metricsDaily = sqliteTable(
  "metrics_daily",
  {
    orgId: text("org_id").notNull(),
    /** YYYY-MM-DD (UTC). */
    day: text("day").notNull(),
    projectId: text("project_id").notNull().default(""),
    metric: text("metric").notNull(),
    bucket: integer("bucket").notNull().default(0),
    count: integer("count").notNull().default(0),
    sum: real("sum").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.day, t.projectId, t.metric, t.bucket] }), index("metrics_daily_day").on(t.day)],
);
