/** Ingestion job status and chunk reads. */
import { and, eq } from "drizzle-orm";
import { Hono } from "hono";
import { notFound } from "../../../src/lib/errors";
import { readJob } from "../../../src/lib/ingest";
import { getChunkText, openDb, tables } from "../../../src/lib/storage";
import type { AppEnv } from "../types";

export const jobRoutes = new Hono<AppEnv>()
  .get("/jobs/:jobId", async (c) => {
    const job = await readJob(openDb(c.env.DB), c.req.param("jobId"), c.var.orgId);
    if (!job) throw notFound("job");
    return c.json(job);
  })
  .get("/chunks/:chunkId", async (c) => {
    const db = openDb(c.env.DB);
    const row = await db
      .select({ chunk: tables.chunks })
      .from(tables.chunks)
      .innerJoin(tables.projects, eq(tables.projects.projectId, tables.chunks.projectId))
      .where(and(eq(tables.chunks.chunkId, c.req.param("chunkId")), eq(tables.projects.orgId, c.var.orgId)))
      .get();
    if (!row) throw notFound("chunk");
    const { chunk } = row;
    const text = await getChunkText(c.env.CHUNKS, chunk.r2Key);
    if (text === null) throw new Error(`chunk ${chunk.chunkId} has no object at ${chunk.r2Key}`);
    return c.json({
      chunkId: chunk.chunkId,
      projectId: chunk.projectId,
      path: chunk.path,
      ordinal: chunk.ordinal,
      startLine: chunk.startLine,
      endLine: chunk.endLine,
      byteOffset: chunk.byteOffset,
      byteLength: chunk.byteLength,
      tokenCount: chunk.tokenCount,
      sha256: chunk.sha256,
      type: chunk.type,
      severity: chunk.severity,
      createdAt: new Date(chunk.createdAt).toISOString(),
      text,
    });
  });
