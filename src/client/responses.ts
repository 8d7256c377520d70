/**
 * What each route answers: the outputs of the server's own response schemas (src/lib/contract), the same
 * schemas the OpenAPI document is made from and every integration test checks responses against — so
 * the client cannot drift from the server. Only the session socket's frames are written out here.
 */
import type { z } from "zod";
import type { AssembledContext, AssembleResponse, ContextPiece as ContextPieceSchema } from "../lib/contract/context";
import type { FeedbackRecorded, GenerationDryRun as GenerationDryRunSchema, Generation as GenerationSchema } from "../lib/contract/generate";
import type { GenerationList as GenerationListSchema, GenerationRecord as GenerationRecordSchema } from "../lib/contract/generations";
import type { Readiness } from "../lib/contract/health";
import type { ChunkView, JobView } from "../lib/contract/jobs";
import type { MetricsReport as MetricsReportSchema } from "../lib/contract/metrics";
import type {
  AuditPage as AuditPageSchema,
  KeyList as KeyListSchema,
  LimitsView as LimitsViewSchema,
  MintedKey as MintedKeySchema,
  OrgCreated,
  SettingsView as SettingsViewSchema,
  UsageReport as UsageReportSchema,
  Whoami as WhoamiSchema,
} from "../lib/contract/orgs";
import type {
  DeletionStarted,
  FileList as FileListSchema,
  ProjectCreated,
  ProjectListItem as ProjectListItemSchema,
  ProjectList as ProjectListSchema,
  ProjectView,
  RepositoryLinked,
  StoredRecord,
  SummaryReportView,
} from "../lib/contract/projects";
import type { ReplaySummary as ReplaySummarySchema, RunEvent, RunSummary as RunSummarySchema, RunView } from "../lib/contract/sandbox";
import type { SessionAssembleResponse, SessionInfo as SessionInfoSchema } from "../lib/contract/sessions";
import type { ArchiveAccepted, PartStored, UploadCompleted, UploadStarted } from "../lib/contract/uploads";

type Out<S extends z.ZodType> = z.output<S>;

// Projects
export type CreatedProject = Out<typeof ProjectCreated>;
export type Project = Out<typeof ProjectView>;
export type ProjectListItem = Out<typeof ProjectListItemSchema>;
export type JobStatus = ProjectListItem["lastJob"] extends infer J ? (J extends { status: infer S } ? S : never) : never;
export type ProjectList = Out<typeof ProjectListSchema>;
export type DeletedProject = Out<typeof DeletionStarted>;
export type LinkedRepository = Out<typeof RepositoryLinked>;
export type FileList = Out<typeof FileListSchema>;
/** A project's model-written summaries: on or off and why, the month's spend, files by state. */
export type SummaryReport = Out<typeof SummaryReportView>;
export type ProjectFile = FileList["files"][number];
export type StoredRecords = Out<typeof StoredRecord>;

// Uploads and jobs
export type IngestAccepted = Out<typeof ArchiveAccepted>;
export type StartedUpload = Out<typeof UploadStarted>;
export type UploadedPart = Out<typeof PartStored>;
export type CompletedUpload = Out<typeof UploadCompleted>;
export type Job = Out<typeof JobView>;
export type SkippedEntry = Job["skipped"][number];
export type Chunk = Out<typeof ChunkView>;

// Context
export type ContextPiece = Out<typeof ContextPieceSchema>;
export type AssembleResult = Out<typeof AssembledContext>;
export type Assembled = Out<typeof AssembleResponse>;

// Sessions
export type SessionInfo = Out<typeof SessionInfoSchema>;
export type SessionAssembled = Out<typeof SessionAssembleResponse>;
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
export type Generation = Out<typeof GenerationSchema>;
export type GenerationDryRun = Out<typeof GenerationDryRunSchema>;
export type Plan = Generation["plan"];
/** The decision log: a page of generations, and one generation's calls, decisions, verification and claims. */
export type GenerationList = Out<typeof GenerationListSchema>;
export type GenerationSummary = GenerationList["generations"][number];
export type GenerationRecord = Out<typeof GenerationRecordSchema>;
export type GenerationCall = GenerationRecord["calls"][number];
export type GeneratedDiff = Generation["diffs"][number];
export type GenerationFeedback = Out<typeof FeedbackRecorded>;

// Sandbox
export type RunSummary = Out<typeof RunSummarySchema>;
export type CommandResult = RunSummary["results"][number];
export type ReplaySummary = Out<typeof ReplaySummarySchema>;
/** A line of a run's NDJSON stream: the runner's events, then the summary (or the error envelope). */
export type RunStreamLine = Out<typeof RunEvent> | ({ type: "summary" } & RunSummary) | { type: "error"; error: { code: string; message: string } };
export type SandboxRun = Out<typeof RunView>;

// Keys, orgs, usage, audit
export type MintedKey = Out<typeof MintedKeySchema>;
export type CreatedOrg = Out<typeof OrgCreated>;
export type KeyList = Out<typeof KeyListSchema>;
export type KeyView = KeyList["keys"][number];
export type LimitsView = Out<typeof LimitsViewSchema>;
export type OrgLimits = LimitsView["limits"];
export type SettingsView = Out<typeof SettingsViewSchema>;
export type UsageReport = Out<typeof UsageReportSchema>;
export type UsageRow = UsageReport["rows"][number];
export type Whoami = Out<typeof WhoamiSchema>;
export type MetricsReport = Out<typeof MetricsReportSchema>;
export type MetricsDay = MetricsReport["days"][number];
export type AuditPage = Out<typeof AuditPageSchema>;
export type AuditEntry = AuditPage["entries"][number];
export type Health = Out<typeof Readiness>;
