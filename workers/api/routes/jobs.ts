/** Ingestion job status and chunk reads, live or superseded. */
import { Hono } from "hono";
import { mayTouch } from "../../../src/lib/auth";
import { ChunkView, JobView } from "../../../src/lib/contract/jobs";
import { notFound } from "../../../src/lib/errors";
import { readJob } from "../../../src/lib/ingest";
import { readChunk } from "../../../src/lib/projects/read-chunk";
import { openDb } from "../../../src/lib/storage";
import { need } from "../middleware/auth";
import { describe } from "../openapi";
import type { AppEnv } from "../types";

export const jobRoutes = new Hono<AppEnv>()
  .get(
    "/jobs/:jobId",
    describe({ summary: "An ingestion job's progress, outcomes, skipped files and errors", tags: ["ingestion"], caller: "read", responses: { 200: JobView } }),
    need("read"),
    async (c) => {
      const job = await readJob(openDb(c.env.DB), c.req.param("jobId"), c.var.orgId);
      if (!job || !mayTouch(c.var.key, job.projectId)) throw notFound("job");
      return c.json(job);
    },
  )
  .get(
    "/chunks/:chunkId",
    describe({
      summary: "A chunk's text and provenance, live or superseded (with the path's current version)",
      tags: ["context"],
      caller: "read",
      responses: { 200: ChunkView },
    }),
    need("read"),
    async (c) => c.json(await readChunk({ db: openDb(c.env.DB), bucket: c.env.CHUNKS }, c.req.param("chunkId"), c.var.key)),
  );
