/**
 * What each route answers, written from the routes (workers/api/routes/*.ts). The one place for response
 * types: they will be replaced by `z.infer` of the routes' response schemas once those exist.
 */

export type PageOf<K extends string, T> = { [P in K]: T[] } & { nextCursor: string | null };

// Projects
export type CreatedProject = { projectId: string };
export type Project = {
  projectId: string;
  name: string;
  tokenizer: string;
  chunkTokens: number;
  overlapTokens: number;
  maxFileBytes: number;
  repository: { fullName: string; branch: string | null; credential: "token" | "none"; webhookPath: string } | null;
  checkCommands: string[] | null;
  createdAt: string;
};
export type JobStatus = "waiting" | "queued" | "running" | "done" | "failed";
export type ProjectListItem = Project & {
  files: number;
  tokens: number;
  lastJob: { jobId: string; source: string; status: JobStatus; createdAt: string; finishedAt: string | null } | null;
  freshness: { basis: "upload" | "push" | "job"; at: string } | null;
};
export type ProjectList = PageOf<"projects", ProjectListItem>;
export type DeletedProject = { jobId: string };
export type LinkedRepository = { repository: Project["repository"]; webhookSecret: string; webhookPath: string };
export type ProjectFile = {
  path: string;
  sha256: string;
  sizeBytes: number;
  tokenCount: number;
  binary: boolean;
  type: string;
  status: string;
  encoding: string | null;
  linkTarget: string | null;
  skipReason: string | null;
  skipDetail: string | null;
  secrets: { ruleId: string; startLine: number; endLine: number }[];
  chunkIds: string[];
  updatedAt: string;
};
export type FileList = PageOf<"files", ProjectFile>;
export type StoredRecords = { path: string; type: string; tokens: number; chunks: unknown[] };

// Uploads and jobs
export type IngestAccepted = { jobId: string; files: number; batches: number; status: "waiting" | "queued" };
export type StartedUpload = { uploadId: string; format: string; partBytes: number; minPartBytes: number; maxPartBytes: number; maxParts: number };
export type UploadedPart = { partNumber: number; etag: string };
export type CompletedUpload = { jobId: string; alreadyCompleted: true } | (IngestAccepted & { alreadyCompleted: false });
export type SkippedEntry = { path: string; reason: string; detail?: string };
export type Job = {
  jobId: string;
  projectId: string;
  source: string;
  status: JobStatus;
  files: { total: number; done: number; skipped: number; unchanged: number; ignored: number; removed: number };
  outcomes: { text: number; decoded: number; binary: number; link: number; skipped: Record<string, number> };
  skipped: SkippedEntry[];
  chunks: number;
  chunksWritten: number;
  tokens: number;
  errors: { path?: string; message: string }[];
  batches: { total: number; done: number; failed: number };
  attempts: number;
  requeues: number;
  stalledSince: string | null;
  createdAt: string;
  finishedAt: string | null;
};
type ChunkBase = {
  chunkId: string;
  projectId: string;
  path: string;
  ordinal: number;
  startLine: number;
  endLine: number;
  byteOffset: number;
  byteLength: number;
  tokenCount: number;
  sha256: string;
  type: string;
  severity: string | null;
  encoding: string | null;
  createdAt: string;
  text: string;
};
export type Chunk =
  | (ChunkBase & { superseded: false; secrets: { ruleId: string; startLine: number; endLine: number }[] })
  | (ChunkBase & { superseded: true; retiredAt: string; current: { path: string; chunkIds: string[]; sha256: string } | null });

// Context assembly
export type ContextPiece = {
  chunkId: string;
  kind: string;
  tokenCount: number;
  textPreview: string;
  sourcePath: string;
  startLine: number;
  endLine: number;
  score: number;
  reasons: string[];
};
export type AssembleResult = {
  contextPieces: ContextPiece[];
  tokenTotal: number;
  tokenBudget: number;
  utilization: number;
  timings: Record<string, number>;
  warnings: string[];
  /** Present when the request set `includeText`. */
  contextText?: string;
};
export type Assembled = AssembleResult & { callId: string; model: string };

// Sessions
export type SessionInfo = {
  sessionId: string;
  projectId: string;
  orgId: string;
  createdAt: string;
  meter: { calls: number; inputTokens: number; outputTokens: number; costUsd: number };
  hotWindow: { entries: number; bytes: number; limitBytes: number; ttlMs: number };
  hotPaths: string[];
  messages: { role: string; content: string; at: string }[];
  lastEventSeq: number;
  running: boolean;
};
export type SessionAssembled = AssembleResult & { model: string; hotWindow: { reused: number; added: number } };
/** One event of a session's log, as its WebSocket sends it. */
export type SessionEvent = { seq: number; type: string; at: string; data: unknown };
/** The socket's control frames (src/lib/session/replay.ts), which carry no `seq`. */
export type SessionControlFrame =
  | { type: "gap"; from: number; to: number }
  | { type: "more"; after: number; lastEventSeq: number }
  | { type: "replayed"; lastEventSeq: number; running: boolean }
  | { type: "pong"; lastEventSeq: number }
  | { type: "invalid"; error: { code: string; message: string } };

// Generation
export type Plan = { summary: string; steps: { description: string; files: string[] }[] };
export type GeneratedDiff = { diff: string } | { path: string; content: string };
export type Generation = {
  id: string;
  sessionId?: string;
  plan: Plan;
  contextMeta: { tokenBudget: number; tokensUsedForContext: number; chunksUsed: string[]; summariesUsed: string[] };
  diffs: GeneratedDiff[];
  sources: { claim: string; chunkIds: string[] }[];
  previewUrl: string | null;
  verification: { runId: string; status: string }[];
  repairs: number;
  segmented: boolean;
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
  warnings: string[];
};
export type GenerationDryRun = {
  dryRun: true;
  model: string;
  prompts: { plan: string; expand: string };
  contextMeta: Generation["contextMeta"];
};
export type GenerationFeedback = { id: string; approved: boolean; note: string | null; at: string; paths: string[] };

// Sandbox runs
export type CommandResult = { command: string; exitCode: number | null; [field: string]: unknown };
export type RunSummary = { runId: string; status: string; results: CommandResult[] };
export type ReplaySummary = RunSummary & {
  replayOf: string;
  sameOutcome: boolean;
  differences: { command: string; before: number | null; now: number | null }[];
};
/** A line of a run's NDJSON stream: the runner's events, then the summary (or the error envelope). */
export type RunStreamLine = { type: string; [field: string]: unknown };
export type SandboxRun = {
  runId: string;
  projectId: string;
  status: string;
  replayOf: string | null;
  request: unknown;
  results: unknown;
  artifacts: unknown[];
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
};

// Keys, orgs, usage, audit
export type MintedKey = { keyId: string; apiKey: string };
export type CreatedOrg = MintedKey & { orgId: string };
export type KeyView = {
  keyId: string;
  name: string;
  prefix: string;
  scopes: string[];
  projectIds: string[] | null;
  expiresAt: string | null;
  createdBy: string | null;
  createdAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
};
export type KeyList = PageOf<"keys", KeyView>;
export type OrgLimits = Record<string, number | null> & {
  requestsPerMinutePerKey: number | null;
  perProject: { tokensAssembledPerDay: number | null; spendUsdPerDay: number | null };
};
export type LimitsView = { orgId: string; limits: OrgLimits; defaults: Record<string, number> };
export type SettingsView = {
  orgId: string;
  retention: Record<string, unknown> & { stored: Record<string, number | null>; defaults: Record<string, number> };
  secretHandling: string;
};
export type UsageRow = {
  day: string;
  projectId: string | null;
  model: string | null;
  keyId: string | null;
  tokensAssembled: number;
  costUsd: number;
  sandboxMinutes: number;
  requests: number;
};
export type UsageReport = {
  from: string;
  to: string;
  totals: { tokensAssembled: number; costUsd: number; sandboxMinutes: number; requests: number };
  rows: UsageRow[];
};
export type AuditEntry = {
  auditId: string;
  at: string;
  actor: string;
  keyId: string | null;
  action: string;
  projectId: string | null;
  targets: Record<string, string>;
  requestId: string;
  status: number;
  outcome: string;
};
export type AuditPage = PageOf<"entries", AuditEntry>;
export type Health = { status: string; [check: string]: unknown };
