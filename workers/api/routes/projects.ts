/** Projects: create, list, read, delete, link a repository, list files, add conversations and logs. */

import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { DEFAULT_ARCHIVE_LIMITS } from "../../../src/lib/archive";
import { requireOrgWide } from "../../../src/lib/auth";
import { newId } from "../../../src/lib/crypto/hash";
import { startProjectDeletion } from "../../../src/lib/projects/delete-project";
import { LinkRepository, linkRepository } from "../../../src/lib/projects/link-repository";
import { listFiles } from "../../../src/lib/projects/list-files";
import { listProjects, MAX_PROJECTS_PAGE } from "../../../src/lib/projects/list-projects";
import { getProject, projectView, webhookPath } from "../../../src/lib/projects/projects";
import { Conversation, Logs, storeConversation, storeLogs } from "../../../src/lib/projects/records";
import { FILE_STATUSES, openDb, tables } from "../../../src/lib/storage";
import { TOKENIZERS, type Tokenizer } from "../../../src/lib/tokenizer";
import { guardQuota } from "../metering";
import { need } from "../middleware/auth";
import type { AppEnv } from "../types";
import { jsonOf, queryOf } from "../validate";

// Checks run by sandbox runs that name none; null clears them (detection from the files takes over).
const CheckCommands = z.array(z.string().trim().min(1).max(4096)).min(1).max(20).nullable();
export const UpdateProject = z.object({ name: z.string().trim().min(1).max(200).optional(), checkCommands: CheckCommands.optional() });

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

export const projectRoutes = new Hono<AppEnv>()
  .post("/projects", need("ingest"), jsonOf(CreateProject), async (c) => {
    requireOrgWide(c.var.key, "create projects");
    await guardQuota(c, "projects");
    const body = c.req.valid("json");
    const db = openDb(c.env.DB);
    const projectId = newId("prj");
    await db.insert(tables.projects).values({
      projectId,
      orgId: c.var.orgId,
      name: body.name,
      tokenizer: body.tokenizer ?? (TOKENIZERS.includes(c.env.DEFAULT_TOKENIZER as Tokenizer) ? c.env.DEFAULT_TOKENIZER : "claude"),
      chunkTokens: body.chunkTokens,
      overlapTokens: body.overlapTokens,
      maxFileBytes: body.maxFileBytes,
      checkCommands: body.checkCommands ? JSON.stringify(body.checkCommands) : null,
    });
    return c.json({ projectId }, 201);
  })
  .get("/projects", need("read"), queryOf(ProjectsQuery), async (c) => {
    const q = c.req.valid("query");
    return c.json(await listProjects(c.env.DB, c.var.key, q));
  })
  .delete("/projects/:projectId", need("admin"), async (c) => {
    const p = await getProject(openDb(c.env.DB), c.req.param("projectId"), c.var.key);
    const jobId = await startProjectDeletion({ d1: c.env.DB, queue: c.env.INGEST_QUEUE }, p);
    return c.json({ jobId }, 202);
  })
  .get("/projects/:projectId", need("read"), async (c) => {
    const p = await getProject(openDb(c.env.DB), c.req.param("projectId"), c.var.key);
    return c.json(projectView(p));
  })
  .patch("/projects/:projectId", need("admin"), jsonOf(UpdateProject), async (c) => {
    const db = openDb(c.env.DB);
    const p = await getProject(db, c.req.param("projectId"), c.var.key);
    const body = c.req.valid("json");
    const set: Partial<typeof tables.projects.$inferInsert> = {};
    if (body.name !== undefined) set.name = body.name;
    if (body.checkCommands !== undefined) set.checkCommands = body.checkCommands === null ? null : JSON.stringify(body.checkCommands);
    if (Object.keys(set).length > 0) await db.update(tables.projects).set(set).where(eq(tables.projects.projectId, p.projectId));
    return c.json(projectView(await getProject(db, p.projectId, c.var.key)));
  })
  .put("/projects/:projectId/repository", need("admin"), jsonOf(LinkRepository), async (c) => {
    const db = openDb(c.env.DB);
    const p = await getProject(db, c.req.param("projectId"), c.var.key);
    const { webhookSecret } = await linkRepository(db, c.env.WINKY_SEAL_KEY, p.projectId, c.req.valid("json"));
    const { repository } = projectView(await getProject(db, p.projectId, c.var.key));
    return c.json({ repository, webhookSecret, webhookPath: webhookPath(p.projectId) });
  })
  .get("/projects/:projectId/files", need("read"), queryOf(FilesQuery), async (c) => {
    const db = openDb(c.env.DB);
    const p = await getProject(db, c.req.param("projectId"), c.var.key);
    const q = c.req.valid("query");
    return c.json(await listFiles(db, p.projectId, q));
  })
  .post("/projects/:projectId/conversations", need("ingest"), jsonOf(Conversation), async (c) => {
    const db = openDb(c.env.DB);
    const p = await getProject(db, c.req.param("projectId"), c.var.key);
    return c.json(await storeConversation(recordDeps(c.env), p, c.req.valid("json")), 201);
  })
  .post("/projects/:projectId/logs", need("ingest"), jsonOf(Logs), async (c) => {
    const db = openDb(c.env.DB);
    const p = await getProject(db, c.req.param("projectId"), c.var.key);
    return c.json(await storeLogs(recordDeps(c.env), p, c.req.valid("json")), 201);
  });

const recordDeps = (env: Env) => ({ db: openDb(env.DB), bucket: env.CHUNKS, projectIndex: env.PROJECT_INDEX });
