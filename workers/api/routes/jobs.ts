/** Ingestion job status and chunk reads, live or superseded. */
import { Hono } from "hono";
import { mayTouch } from "../../../src/lib/auth";
import { notFound } from "../../../src/lib/errors";
import { readJob } from "../../../src/lib/ingest";
import { readChunk } from "../../../src/lib/projects/read-chunk";
import { openDb } from "../../../src/lib/storage";
import { need } from "../middleware/auth";
import type { AppEnv } from "../types";

export const jobRoutes = new Hono<AppEnv>()
  .get("/jobs/:jobId", need("read"), async (c) => {
    const job = await readJob(openDb(c.env.DB), c.req.param("jobId"), c.var.orgId);
    if (!job || !mayTouch(c.var.key, job.projectId)) throw notFound("job");
    return c.json(job);
  })
  .get("/chunks/:chunkId", need("read"), async (c) =>
    c.json(await readChunk({ db: openDb(c.env.DB), bucket: c.env.CHUNKS }, c.req.param("chunkId"), c.var.key)),
  );
