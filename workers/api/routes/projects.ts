/** Projects: create, list, read, delete, link a repository, list files, add conversations and logs. */
import { and, asc, eq, gt, gte, lte } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { DEFAULT_ARCHIVE_LIMITS } from "../../../src/lib/archive";
import { chunkRecords } from "../../../src/lib/chunker";
import { newId, randomToken, sha256Hex } from "../../../src/lib/crypto/hash";
import { fingerprint, indexInShard, writeFiles } from "../../../src/lib/ingest";
import { startProjectDeletion } from "../../../src/lib/projects/delete-project";
import { listProjects, MAX_PROJECTS_PAGE } from "../../../src/lib/projects/list-projects";
import { getProject, projectView } from "../../../src/lib/projects/projects";
import { FILE_STATUSES, openDb, runBatch, tables } from "../../../src/lib/storage";
import { TOKENIZERS, type Tokenizer } from "../../../src/lib/tokenizer";
import type { AppEnv } from "../types";
import { jsonBody, parseWith } from "../validate";

// Checks run by sandbox runs that name none; null clears them (detection from the files takes over).
const CheckCommands = z.array(z.string().trim().min(1).max(4096)).min(1).max(20).nullable();
const UpdateProject = z.object({ name: z.string().trim().min(1).max(200).optional(), checkCommands: CheckCommands.optional() });

// The spec's chunk size is 8,000 tokens and its overlap 128-512; both are per-project settings.
const CreateProject = z
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

const LinkRepository = z.object({
  fullName: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "owner/name"),
  branch: z.string().min(1).max(255).optional(),
});

const FilesQuery = z.object({
  cursor: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
  status: z.enum(FILE_STATUSES).optional(),
});

const ProjectsQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PROJECTS_PAGE).default(50),
});

const Conversation = z.object({
  conversationId: z.string().regex(/^[\w.-]{1,128}$/),
  messages: z
    .array(z.object({ role: z.string().min(1).max(64), content: z.string().max(1_000_000), at: z.iso.datetime().optional() }))
    .min(1)
    .max(10_000),
});

const SEVERITIES = ["trace", "debug", "info", "notice", "warn", "error", "fatal"] as const;
const Logs = z
  .object({
    source: z.string().regex(/^[\w.-]{1,128}$/),
    entries: z
      .array(z.object({ at: z.iso.datetime().optional(), severity: z.enum(SEVERITIES), message: z.string().max(1_000_000) }))
      .min(1)
      .max(100_000)
      .optional(),
    text: z
      .string()
      .min(1)
      .max(4 * 1024 * 1024)
      .optional(),
  })
  .refine((l) => (l.entries ? 1 : 0) + (l.text ? 1 : 0) === 1, { message: "send exactly one of entries or text" });

export const projectRoutes = new Hono<AppEnv>()
  .post("/projects", async (c) => {
    const body = await jsonBody(c, CreateProject);
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
  .get("/projects", async (c) => {
    const q = parseWith(ProjectsQuery, c.req.query(), "query");
    return c.json(await listProjects(c.env.DB, c.var.orgId, q));
  })
  .delete("/projects/:projectId", async (c) => {
    const p = await getProject(openDb(c.env.DB), c.req.param("projectId"), c.var.orgId);
    const jobId = await startProjectDeletion({ d1: c.env.DB, queue: c.env.INGEST_QUEUE }, p);
    return c.json({ jobId }, 202);
  })
  .get("/projects/:projectId", async (c) => {
    const p = await getProject(openDb(c.env.DB), c.req.param("projectId"), c.var.orgId);
    return c.json(projectView(p));
  })
  .patch("/projects/:projectId", async (c) => {
    const db = openDb(c.env.DB);
    const p = await getProject(db, c.req.param("projectId"), c.var.orgId);
    const body = await jsonBody(c, UpdateProject);
    const set: Partial<typeof tables.projects.$inferInsert> = {};
    if (body.name !== undefined) set.name = body.name;
    if (body.checkCommands !== undefined) set.checkCommands = body.checkCommands === null ? null : JSON.stringify(body.checkCommands);
    if (Object.keys(set).length > 0) await db.update(tables.projects).set(set).where(eq(tables.projects.projectId, p.projectId));
    return c.json(projectView(await getProject(db, p.projectId, c.var.orgId)));
  })
  .put("/projects/:projectId/repository", async (c) => {
    const db = openDb(c.env.DB);
    const p = await getProject(db, c.req.param("projectId"), c.var.orgId);
    const body = await jsonBody(c, LinkRepository);
    const webhookSecret = randomToken(32);
    await db
      .update(tables.projects)
      .set({ repoFullName: body.fullName.toLowerCase(), repoBranch: body.branch ?? null, webhookSecret })
      .where(eq(tables.projects.projectId, p.projectId));
    return c.json({ repository: { fullName: body.fullName, branch: body.branch ?? null }, webhookSecret, webhookPath: "/api/webhooks/github" });
  })
  .get("/projects/:projectId/files", async (c) => {
    const db = openDb(c.env.DB);
    const p = await getProject(db, c.req.param("projectId"), c.var.orgId);
    const q = parseWith(FilesQuery, c.req.query(), "query");
    // (project_id, status, path) is indexed, so a status filter is one range scan too.
    const where = and(
      eq(tables.files.projectId, p.projectId),
      q.status ? eq(tables.files.status, q.status) : undefined,
      q.cursor ? gt(tables.files.path, q.cursor) : undefined,
    );
    const rows = await db
      .select()
      .from(tables.files)
      .where(where)
      .orderBy(asc(tables.files.path))
      .limit(q.limit + 1)
      .all();
    const page = rows.slice(0, q.limit);
    const ids = new Map<string, string[]>();
    const first = page[0];
    const last = page[page.length - 1];
    if (first && last) {
      // One range scan on (project_id, path) fetches the page's chunk ids.
      const chunkRows = await db
        .select({ path: tables.chunks.path, chunkId: tables.chunks.chunkId })
        .from(tables.chunks)
        .where(and(eq(tables.chunks.projectId, p.projectId), gte(tables.chunks.path, first.path), lte(tables.chunks.path, last.path)))
        .orderBy(asc(tables.chunks.path), asc(tables.chunks.ordinal))
        .all();
      for (const r of chunkRows) ids.set(r.path, [...(ids.get(r.path) ?? []), r.chunkId]);
    }
    return c.json({
      files: page.map((f) => ({
        path: f.path,
        sha256: f.sha256,
        sizeBytes: f.sizeBytes,
        tokenCount: f.tokenCount,
        binary: f.binary,
        type: f.type,
        status: f.status,
        encoding: f.encoding,
        linkTarget: f.linkTarget,
        skipReason: f.skipReason,
        skipDetail: f.skipDetail,
        chunkIds: ids.get(f.path) ?? [],
        updatedAt: new Date(f.updatedAt).toISOString(),
      })),
      nextCursor: rows.length > q.limit && last ? last.path : null,
    });
  })
  .post("/projects/:projectId/conversations", async (c) => {
    const db = openDb(c.env.DB);
    const p = await getProject(db, c.req.param("projectId"), c.var.orgId);
    const body = await jsonBody(c, Conversation);
    const records = body.messages.map((m) => ({ text: `[${m.role}${m.at ? ` @ ${m.at}` : ""}]\n${m.content.replace(/\r\n?/g, "\n")}\n\n` }));
    const path = `conversations/${body.conversationId}/${(await sha256Hex(JSON.stringify(body.messages))).slice(0, 16)}`;
    return c.json(await storeRecords(c.env, p, path, "conversation", records), 201);
  })
  .post("/projects/:projectId/logs", async (c) => {
    const db = openDb(c.env.DB);
    const p = await getProject(db, c.req.param("projectId"), c.var.orgId);
    const body = await jsonBody(c, Logs);
    const records = body.entries
      ? body.entries.map((e) => ({ text: `${e.at ? `${e.at} ` : ""}${e.severity.toUpperCase()} ${e.message.replace(/\r\n?/g, "\n")}\n`, severity: e.severity }))
      : (body.text ?? "")
          .replace(/\r\n?/g, "\n")
          .split(/(?<=\n)/)
          .map((line) => ({ text: line.endsWith("\n") ? line : `${line}\n`, severity: severityOf(line) }));
    const path = `logs/${body.source}/${(await sha256Hex(records.map((r) => r.text).join(""))).slice(0, 16)}`;
    return c.json(await storeRecords(c.env, p, path, "log", records), 201);
  });

function severityOf(line: string): string | undefined {
  const m = /\b(TRACE|DEBUG|INFO|NOTICE|WARN(?:ING)?|ERROR|ERR|FATAL|CRITICAL|PANIC)\b/i.exec(line);
  if (!m) return undefined;
  const s = (m[1] as string).toLowerCase();
  if (s.startsWith("warn")) return "warn";
  if (s === "err") return "error";
  if (s === "critical" || s === "panic") return "fatal";
  return s;
}

/** Chunks records at their boundaries and writes them as one synthetic file of the project. */
async function storeRecords(
  env: Env,
  p: Awaited<ReturnType<typeof getProject>>,
  path: string,
  type: "conversation" | "log",
  records: { text: string; severity?: string | undefined }[],
) {
  const db = openDb(env.DB);
  const { text, chunks } = chunkRecords(records, { tokenizer: p.tokenizer as Tokenizer, maxTokens: p.chunkTokens, overlapTokens: 0 });
  const sha256 = await sha256Hex(text);
  const prepared = {
    path,
    sha256,
    sizeBytes: new TextEncoder().encode(text).byteLength,
    binary: false,
    type,
    status: "text" as const,
    chunks: await fingerprint(chunks),
  };
  const changedAt = Date.now();
  const written = await writeFiles({ db, bucket: env.CHUNKS }, p.projectId, changedAt, [{ ...prepared, text }], []);
  const { statements, stats } = written;
  statements.push(...(await indexInShard(db, { namespace: env.PROJECT_INDEX, projectId: p.projectId, projectName: p.name }, written, changedAt)));
  await runBatch(db, statements);
  const rows = await db
    .select({
      chunkId: tables.chunks.chunkId,
      tokenCount: tables.chunks.tokenCount,
      startLine: tables.chunks.startLine,
      endLine: tables.chunks.endLine,
      severity: tables.chunks.severity,
    })
    .from(tables.chunks)
    .where(and(eq(tables.chunks.projectId, p.projectId), eq(tables.chunks.path, path)))
    .orderBy(asc(tables.chunks.ordinal))
    .all();
  return { path, type, tokens: stats.tokens, chunks: rows };
}
