/** What each route accepts: the inputs of the routes' own zod schemas, so the client cannot drift from the server. */
import type { z } from "zod";
import type { Assemble, AssembleFields } from "../lib/contract/context";
import type { Feedback, GeneratePrototype } from "../lib/contract/generate";
import type { GenerationsQuery as GenerationsQuerySchema } from "../lib/contract/generations";
import type { MetricsQuery as MetricsQuerySchema } from "../lib/contract/metrics";
import type {
  AuditQuery as AuditQuerySchema,
  KeyRequest,
  KeysQuery as KeysQuerySchema,
  LimitsPatch,
  SettingsPatch,
  UsageQuery as UsageQuerySchema,
} from "../lib/contract/orgs";
import type {
  Conversation,
  CreateProject,
  FilesQuery as FilesQuerySchema,
  LinkRepository,
  Logs,
  ProjectsQuery as ProjectsQuerySchema,
  UpdateProject,
} from "../lib/contract/projects";
import type { StartRun } from "../lib/contract/sandbox";
import type { CreateSession } from "../lib/contract/sessions";
import type { CompleteUpload, StartUpload } from "../lib/contract/uploads";

/** A query's input: a coerced field (whose input is `unknown`) takes what a query string carries. */
type QueryOf<S extends z.ZodType> = { [K in keyof z.input<S>]: unknown extends z.input<S>[K] ? number | string | undefined : z.input<S>[K] };

export type CreateProjectRequest = z.input<typeof CreateProject>;
export type UpdateProjectRequest = z.input<typeof UpdateProject>;
export type ProjectsQuery = QueryOf<typeof ProjectsQuerySchema>;
export type FilesQuery = QueryOf<typeof FilesQuerySchema>;
export type LinkRepositoryRequest = z.input<typeof LinkRepository>;
export type ConversationRequest = z.input<typeof Conversation>;
export type LogsRequest = z.input<typeof Logs>;
export type StartUploadRequest = z.input<typeof StartUpload>;
export type CompleteUploadRequest = z.input<typeof CompleteUpload>;
export type AssembleRequest = z.input<typeof Assemble>;
export type CreateSessionRequest = z.input<typeof CreateSession>;
export type SessionAssembleRequest = z.input<typeof AssembleFields>;
export type GeneratePrototypeRequest = z.input<typeof GeneratePrototype>;
export type FeedbackRequest = z.input<typeof Feedback>;
export type StartRunRequest = z.input<typeof StartRun>;
export type KeyCreateRequest = z.input<typeof KeyRequest>;
export type KeysQuery = QueryOf<typeof KeysQuerySchema>;
export type LimitsPatchRequest = z.input<typeof LimitsPatch>;
export type SettingsPatchRequest = z.input<typeof SettingsPatch>;
export type UsageQuery = QueryOf<typeof UsageQuerySchema>;
export type AuditQuery = QueryOf<typeof AuditQuerySchema>;
export type MetricsQuery = QueryOf<typeof MetricsQuerySchema>;
export type GenerationsQuery = QueryOf<typeof GenerationsQuerySchema>;
