/** WinkyClient: the REST API, the session WebSocket and the NDJSON run streams over `fetch`, one method per route. */
import { type Fetch, Http } from "./http";
import { readNdjson } from "./ndjson";
import type * as Req from "./requests";
import type * as Res from "./responses";
import { SessionSocket, type SessionSocketOptions } from "./session-socket";
import { type ArchiveFormat, multipartSteps, type UploadOptions, uploadArchive } from "./uploads";

export type WinkyClientOptions = { server: string; apiKey: string; fetch?: Fetch };

const id = encodeURIComponent;

export class WinkyClient {
  readonly http: Http;

  constructor(options: WinkyClientOptions) {
    this.http = new Http(options);
  }

  get server(): string {
    return this.http.server;
  }

  /** GET /health (no key needed, but sent anyway). */
  health(): Promise<Res.Health> {
    return this.http.json("/health");
  }

  readonly projects = {
    create: (body: Req.CreateProjectRequest) => this.http.json<Res.CreatedProject>("/api/projects", { json: body }),
    list: (query: Req.ProjectsQuery = {}) => this.http.json<Res.ProjectList>("/api/projects", { query }),
    /** Every page of the listing. */
    listAll: async (): Promise<Res.ProjectListItem[]> => {
      const all: Res.ProjectListItem[] = [];
      let cursor: string | undefined;
      do {
        const page = await this.projects.list(cursor ? { cursor } : {});
        all.push(...page.projects);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return all;
    },
    get: (projectId: string) => this.http.json<Res.Project>(`/api/projects/${id(projectId)}`),
    update: (projectId: string, body: Req.UpdateProjectRequest) =>
      this.http.json<Res.Project>(`/api/projects/${id(projectId)}`, { method: "PATCH", json: body }),
    delete: (projectId: string) => this.http.json<Res.DeletedProject>(`/api/projects/${id(projectId)}`, { method: "DELETE" }),
    linkRepository: (projectId: string, body: Req.LinkRepositoryRequest) =>
      this.http.json<Res.LinkedRepository>(`/api/projects/${id(projectId)}/repository`, { method: "PUT", json: body }),
    files: (projectId: string, query: Req.FilesQuery = {}) => this.http.json<Res.FileList>(`/api/projects/${id(projectId)}/files`, { query }),
    summaries: (projectId: string) => this.http.json<Res.SummaryReport>(`/api/projects/${id(projectId)}/summaries`),
    addConversation: (projectId: string, body: Req.ConversationRequest) =>
      this.http.json<Res.StoredRecords>(`/api/projects/${id(projectId)}/conversations`, { json: body }),
    addLogs: (projectId: string, body: Req.LogsRequest) => this.http.json<Res.StoredRecords>(`/api/projects/${id(projectId)}/logs`, { json: body }),
  };

  readonly uploads = {
    /** The archive in one request or in parts, whichever its size calls for. */
    upload: (projectId: string, archive: Blob, opts: UploadOptions = {}) => uploadArchive(this.http, projectId, archive, opts),
    start: (projectId: string, format: ArchiveFormat) => multipartSteps(this.http, projectId).start(format),
    putPart: (projectId: string, uploadId: string, partNumber: number, bytes: Blob | Uint8Array) =>
      multipartSteps(this.http, projectId).putPart(uploadId, partNumber, bytes),
    complete: (projectId: string, uploadId: string, parts: Req.CompleteUploadRequest["parts"]) =>
      multipartSteps(this.http, projectId).complete(uploadId, parts),
    abort: (projectId: string, uploadId: string) => multipartSteps(this.http, projectId).abort(uploadId),
  };

  readonly jobs = {
    get: (jobId: string) => this.http.json<Res.Job>(`/api/jobs/${id(jobId)}`),
    /** Polls the job until it is done or failed, calling `onProgress` with each reading. */
    wait: async (jobId: string, opts: { intervalMs?: number; onProgress?: (job: Res.Job) => void } = {}): Promise<Res.Job> => {
      for (;;) {
        const job = await this.jobs.get(jobId);
        opts.onProgress?.(job);
        if (job.status === "done" || job.status === "failed") return job;
        await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
      }
    },
  };

  readonly chunks = {
    get: (chunkId: string) => this.http.json<Res.Chunk>(`/api/chunks/${id(chunkId)}`),
  };

  readonly context = {
    assemble: (body: Req.AssembleRequest) => this.http.json<Res.Assembled>("/api/context/assemble", { json: body }),
  };

  readonly sessions = {
    create: (body: Req.CreateSessionRequest) => this.http.json<Res.SessionInfo>("/api/sessions", { json: body }),
    get: (sessionId: string) => this.http.json<Res.SessionInfo>(`/api/sessions/${id(sessionId)}`),
    assemble: (sessionId: string, body: Req.SessionAssembleRequest) =>
      this.http.json<Res.SessionAssembled>(`/api/sessions/${id(sessionId)}/assemble`, { json: body }),
    delete: (sessionId: string) => this.http.send(`/api/sessions/${id(sessionId)}`, { method: "DELETE" }).then(() => undefined),
    /** The session's event stream, reconnecting with `?after=` so no event is lost. */
    connect: (sessionId: string, options: SessionSocketOptions) =>
      new SessionSocket(`${this.server.replace(/^http/, "ws")}/api/sessions/${id(sessionId)}/ws`, this.http.apiKey, options),
  };

  readonly ai = {
    /** A generation; with `sessionId` it runs in the session, whose socket streams its events. */
    generatePrototype: (body: Req.GeneratePrototypeRequest) =>
      this.http.json<Res.Generation | Res.GenerationDryRun>("/api/ai/generate-prototype", { json: body }),
    feedback: (generationId: string, body: Req.FeedbackRequest) =>
      this.http.json<Res.GenerationFeedback>(`/api/ai/generations/${id(generationId)}/feedback`, { json: body }),
  };

  /** The decision log: what each generation called, decided and why (GET /api/generations, /api/generations/:id). */
  readonly generations = {
    list: (query: Req.GenerationsQuery = {}) => this.http.json<Res.GenerationList>("/api/generations", { query }),
    get: (generationId: string) => this.http.json<Res.GenerationRecord>(`/api/generations/${id(generationId)}`),
  };

  readonly sandbox = {
    run: (body: Req.StartRunRequest) => this.http.json<Res.RunSummary>("/api/sandbox/runs", { json: body }),
    /** The run's events as they happen (NDJSON), the summary last; an error line throws. */
    stream: (body: Req.StartRunRequest) => this.ndjson("/api/sandbox/runs", body),
    get: (runId: string) => this.http.json<Res.SandboxRun>(`/api/sandbox/runs/${id(runId)}`),
    delete: (runId: string) => this.http.send(`/api/sandbox/runs/${id(runId)}`, { method: "DELETE" }).then(() => undefined),
    replay: (runId: string) => this.http.json<Res.ReplaySummary>(`/api/sandbox/runs/${id(runId)}/replay`, { method: "POST" }),
    replayStream: (runId: string) => this.ndjson(`/api/sandbox/runs/${id(runId)}/replay`, undefined),
  };

  readonly keys = {
    create: (body: Req.KeyCreateRequest) => this.http.json<Res.MintedKey>("/api/keys", { json: body }),
    list: (query: Req.KeysQuery = {}) => this.http.json<Res.KeyList>("/api/keys", { query }),
    revoke: (keyId: string) => this.http.send(`/api/keys/${id(keyId)}`, { method: "DELETE" }).then(() => undefined),
  };

  readonly orgs = {
    limits: (orgId: string) => this.http.json<Res.LimitsView>(`/api/orgs/${id(orgId)}/limits`),
    setLimits: (orgId: string, body: Req.LimitsPatchRequest) => this.http.json<Res.LimitsView>(`/api/orgs/${id(orgId)}/limits`, { method: "PUT", json: body }),
    settings: (orgId: string) => this.http.json<Res.SettingsView>(`/api/orgs/${id(orgId)}/settings`),
    updateSettings: (orgId: string, body: Req.SettingsPatchRequest) =>
      this.http.json<Res.SettingsView>(`/api/orgs/${id(orgId)}/settings`, { method: "PATCH", json: body }),
  };

  usage(query: Req.UsageQuery = {}): Promise<Res.UsageReport> {
    return this.http.json("/api/usage", { query });
  }

  /** The spec's metrics per day: one project's (`projectId`), or the org's with a key not limited to projects. */
  metrics(query: Req.MetricsQuery = {}): Promise<Res.MetricsReport> {
    return this.http.json("/api/metrics", { query });
  }

  /** The calling key: its id, org, scopes, projects and expiry. */
  whoami(): Promise<Res.Whoami> {
    return this.http.json("/api/whoami");
  }

  audit(query: Req.AuditQuery = {}): Promise<Res.AuditPage> {
    return this.http.json("/api/audit", { query });
  }

  private async *ndjson(path: string, body: unknown): AsyncGenerator<Res.RunStreamLine> {
    const res = await this.http.send(path, { method: "POST", headers: { accept: "application/x-ndjson" }, ...(body === undefined ? {} : { json: body }) });
    if (!res.body) return;
    yield* readNdjson<Res.RunStreamLine>(res.body as ReadableStream<Uint8Array>, res.status);
  }
}
