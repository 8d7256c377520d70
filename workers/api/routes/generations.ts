/** The decision log: generations of the org, each with its model calls, decisions, verification and claims check. */
import { Hono } from "hono";
import { GenerationList, GenerationRecord, GenerationsQuery } from "../../../src/lib/contract/generations";
import { listGenerations, readGeneration } from "../../../src/lib/generations/decision-log";
import { getProject } from "../../../src/lib/projects/projects";
import { openDb } from "../../../src/lib/storage";
import { need } from "../middleware/auth";
import { describe } from "../openapi";
import type { AppEnv } from "../types";
import { queryOf } from "../validate";

export const generationRoutes = new Hono<AppEnv>()
  .get(
    "/generations",
    describe({
      summary: "The org's generations, newest first (a key limited to projects sees theirs)",
      tags: ["generation"],
      caller: "read",
      responses: { 200: GenerationList },
    }),
    need("read"),
    queryOf(GenerationsQuery),
    async (c) => {
      const q = c.req.valid("query");
      const db = openDb(c.env.DB);
      // A project of another org, or outside the key's list, is a 404 like a missing one.
      if (q.projectId) await getProject(db, q.projectId, c.var.key);
      return c.json(await listGenerations(db, c.var.key, q));
    },
  )
  .get(
    "/generations/:id",
    describe({
      summary: "A generation's decision log: every model call, trim, fallback and repair with why, verification and claims",
      tags: ["generation"],
      caller: "read",
      responses: { 200: GenerationRecord },
    }),
    need("read"),
    async (c) => {
      return c.json(await readGeneration(openDb(c.env.DB), c.var.key, c.req.param("id")));
    },
  );
