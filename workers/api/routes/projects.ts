/** Projects: create, list, read, delete, link a repository, list files, add conversations and logs. */

import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { requireOrgWide } from "../../../src/lib/auth";
import {
  Conversation,
  CreateProject,
  DeletionStarted,
  FileList,
  FilesQuery,
  LinkRepository,
  Logs,
  ProjectCreated,
  ProjectList,
  ProjectsQuery,
  ProjectView,
  RepositoryLinked,
  StoredRecord,
  SummaryBackfillView,
  SummaryReportView,
  UpdateProject,
} from "../../../src/lib/contract/projects";
import { newId } from "../../../src/lib/crypto/hash";
import { readGovernance } from "../../../src/lib/governance";
import { startProjectDeletion } from "../../../src/lib/projects/delete-project";
import { linkRepository } from "../../../src/lib/projects/link-repository";
import { listFiles } from "../../../src/lib/projects/list-files";
import { listProjects } from "../../../src/lib/projects/list-projects";
import { getProject, projectView, webhookPath } from "../../../src/lib/projects/projects";
import { storeConversation, storeLogs } from "../../../src/lib/projects/records";
import { type Db, openDb, tables } from "../../../src/lib/storage";
import { backfillSummaries, projectSummaryReport, smallModel, summariesDefault } from "../../../src/lib/summaries";
import { TOKENIZERS, type Tokenizer } from "../../../src/lib/tokenizer";
import { guardQuota } from "../metering";
import { need } from "../middleware/auth";
import { describe } from "../openapi";
import type { AppEnv } from "../types";
import { jsonOf, queryOf } from "../validate";

/** What the summary routes read: the project's shard, and whether and with which model summaries are made. */
function summaryDeps(env: Env, db: Db, projectId: string) {
  return {
    db,
    shard: env.PROJECT_INDEX.getByName(projectId),
    hasKey: Boolean(env.ANTHROPIC_API_KEY),
    model: smallModel(env),
    deploymentDefault: summariesDefault(env),
  };
}

export const projectRoutes = new Hono<AppEnv>()
  .post(
    "/projects",
    describe({ summary: "Create a project", tags: ["projects"], caller: "ingest", responses: { 201: ProjectCreated } }),
    need("ingest"),
    jsonOf(CreateProject),
    async (c) => {
      requireOrgWide(c.var.key, "create projects");
      await guardQuota(c, "projects");
      const body = c.req.valid("json");
      const db = openDb(c.env.DB);
      const projectId = newId("prj");
      // Orgs whose generation default is "off" make generation opt-in per project.
      const { generationDefault } = await readGovernance(db, c.var.orgId);
      await db.insert(tables.projects).values({
        projectId,
        orgId: c.var.orgId,
        name: body.name,
        tokenizer: body.tokenizer ?? (TOKENIZERS.includes(c.env.DEFAULT_TOKENIZER as Tokenizer) ? c.env.DEFAULT_TOKENIZER : "claude"),
        chunkTokens: body.chunkTokens,
        overlapTokens: body.overlapTokens,
        maxFileBytes: body.maxFileBytes,
        checkCommands: body.checkCommands ? JSON.stringify(body.checkCommands) : null,
        installCommands: body.installCommands ? JSON.stringify(body.installCommands) : null,
        generationEnabled: generationDefault === "off" ? 0 : 1,
      });
      return c.json({ projectId }, 201);
    },
  )
  .get(
    "/projects",
    describe({
      summary: "List projects, newest first, with files, tokens, last job and freshness",
      tags: ["projects"],
      caller: "read",
      responses: { 200: ProjectList },
    }),
    need("read"),
    queryOf(ProjectsQuery),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(await listProjects(c.env.DB, c.var.key, q));
    },
  )
  .delete(
    "/projects/:projectId",
    describe({ summary: "Delete a project and everything indexed for it (a job)", tags: ["projects"], caller: "admin", responses: { 202: DeletionStarted } }),
    need("admin"),
    async (c) => {
      const p = await getProject(openDb(c.env.DB), c.req.param("projectId"), c.var.key);
      const jobId = await startProjectDeletion({ d1: c.env.DB, queue: c.env.INGEST_QUEUE }, p);
      return c.json({ jobId }, 202);
    },
  )
  .get(
    "/projects/:projectId/summaries",
    describe({
      summary: "The project's model-written summaries: on or off and why, the month's spend against its budget, files by state, the latest failures",
      tags: ["projects"],
      caller: "read",
      responses: { 200: SummaryReportView },
    }),
    need("read"),
    async (c) => {
      const db = openDb(c.env.DB);
      const p = await getProject(db, c.req.param("projectId"), c.var.key);
      return c.json(await projectSummaryReport(summaryDeps(c.env, db, p.projectId), p));
    },
  )
  .post(
    "/projects/:projectId/summaries/backfill",
    describe({
      summary:
        "Queue model-written summaries for the files that have none for their current content (ingested while summaries were off, failed, or stopped at the budget); 409 summaries_off when they would not be made",
      tags: ["projects"],
      caller: "ingest",
      responses: { 202: SummaryBackfillView },
    }),
    need("ingest"),
    async (c) => {
      const db = openDb(c.env.DB);
      const p = await getProject(db, c.req.param("projectId"), c.var.key);
      const deps = { ...summaryDeps(c.env, db, p.projectId), queue: c.env.INGEST_QUEUE };
      return c.json(await backfillSummaries(deps, p.projectId), 202);
    },
  )
  .get(
    "/projects/:projectId",
    describe({ summary: "Read a project", tags: ["projects"], caller: "read", responses: { 200: ProjectView } }),
    need("read"),
    async (c) => {
      const p = await getProject(openDb(c.env.DB), c.req.param("projectId"), c.var.key);
      return c.json(projectView(p));
    },
  )
  .patch(
    "/projects/:projectId",
    describe({
      summary: "Rename a project, set its check commands, context budget limit or generation opt-in",
      tags: ["projects"],
      caller: "admin",
      responses: { 200: ProjectView },
    }),
    need("admin"),
    jsonOf(UpdateProject),
    async (c) => {
      const db = openDb(c.env.DB);
      const p = await getProject(db, c.req.param("projectId"), c.var.key);
      const body = c.req.valid("json");
      const set: Partial<typeof tables.projects.$inferInsert> = {};
      if (body.name !== undefined) set.name = body.name;
      if (body.checkCommands !== undefined) set.checkCommands = body.checkCommands === null ? null : JSON.stringify(body.checkCommands);
      if (body.installCommands !== undefined) set.installCommands = body.installCommands === null ? null : JSON.stringify(body.installCommands);
      if (body.maxContextTokens !== undefined) set.maxContextTokens = body.maxContextTokens;
      if (body.generationEnabled !== undefined) set.generationEnabled = body.generationEnabled ? 1 : 0;
      if (Object.keys(set).length > 0) await db.update(tables.projects).set(set).where(eq(tables.projects.projectId, p.projectId));
      return c.json(projectView(await getProject(db, p.projectId, c.var.key)));
    },
  )
  .put(
    "/projects/:projectId/repository",
    describe({ summary: "Link a Git repository (push webhooks)", tags: ["projects"], caller: "admin", responses: { 200: RepositoryLinked } }),
    need("admin"),
    jsonOf(LinkRepository),
    async (c) => {
      const db = openDb(c.env.DB);
      const p = await getProject(db, c.req.param("projectId"), c.var.key);
      const { webhookSecret } = await linkRepository(db, c.env.WINKY_SEAL_KEY, p.projectId, c.req.valid("json"));
      const { repository } = projectView(await getProject(db, p.projectId, c.var.key));
      return c.json({ repository, webhookSecret, webhookPath: webhookPath(p.projectId) });
    },
  )
  .get(
    "/projects/:projectId/files",
    describe({
      summary: "List a project's files with their outcome, tokens and secret findings",
      tags: ["projects"],
      caller: "read",
      responses: { 200: FileList },
    }),
    need("read"),
    queryOf(FilesQuery),
    async (c) => {
      const db = openDb(c.env.DB);
      const p = await getProject(db, c.req.param("projectId"), c.var.key);
      const q = c.req.valid("query");
      return c.json(await listFiles(db, p.projectId, q));
    },
  )
  .post(
    "/projects/:projectId/conversations",
    describe({ summary: "Store a conversation as searchable chunks", tags: ["projects"], caller: "ingest", responses: { 201: StoredRecord } }),
    need("ingest"),
    jsonOf(Conversation),
    async (c) => {
      const db = openDb(c.env.DB);
      const p = await getProject(db, c.req.param("projectId"), c.var.key);
      return c.json(await storeConversation(recordDeps(c.env), p, c.req.valid("json")), 201);
    },
  )
  .post(
    "/projects/:projectId/logs",
    describe({ summary: "Store logs as searchable chunks", tags: ["projects"], caller: "ingest", responses: { 201: StoredRecord } }),
    need("ingest"),
    jsonOf(Logs),
    async (c) => {
      const db = openDb(c.env.DB);
      const p = await getProject(db, c.req.param("projectId"), c.var.key);
      return c.json(await storeLogs(recordDeps(c.env), p, c.req.valid("json")), 201);
    },
  );

const recordDeps = (env: Env) => ({ db: openDb(env.DB), bucket: env.CHUNKS, projectIndex: env.PROJECT_INDEX });
