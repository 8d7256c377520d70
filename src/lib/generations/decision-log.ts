/**
 * The decision log of generations, read from their audit rows (`context_sessions`, ids `gen_…`): every
 * model call with its model, vendor, tokens, cost and prompt fingerprint, the trims, segmentation and
 * repairs and why, the verification and the claims check. Rows are the org's; a key limited to projects
 * sees only theirs, and anything else answers as missing.
 */
import { and, desc, eq, gte, inArray, like, lte } from "drizzle-orm";
import { z } from "zod";
import { type Access, mayTouch } from "../auth";
import { notFound } from "../errors";
import { type Db, tables } from "../storage";
import { afterCursor, decodePageCursor, encodePageCursor } from "../storage/page-cursor";
import { MODEL_VENDOR } from "./decisions";

const GENERATION_ID = "gen_";

export const GenerationsQuery = z
  .object({
    projectId: z.string().max(64).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    cursor: z.string().max(512).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .strict();
export type GenerationsQuery = z.infer<typeof GenerationsQuery>;

// What run-generation.ts stores; older rows lack some fields, so each has a default.
const Usage = z.object({ inputTokens: z.number(), outputTokens: z.number(), costUsd: z.number() });
const StoredCall = z.object({
  pass: z.string(),
  model: z.string().optional(),
  vendor: z.string().optional(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number(),
  longContext: z.boolean(),
  promptSha256: z.string(),
  chunks: z.array(z.string()).default([]),
  at: z.string(),
});
const StoredMeta = z.object({
  sessionId: z.string().nullable().default(null),
  status: z.enum(["done", "failed"]).default("done"),
  vendor: z.string().default(MODEL_VENDOR),
  usage: Usage.default({ inputTokens: 0, outputTokens: 0, costUsd: 0 }),
  calls: z.array(StoredCall).default([]),
  decisions: z.array(z.object({ kind: z.enum(["trim", "segmentation", "repair", "sources"]), pass: z.string().nullable(), reason: z.string() })).default([]),
  verification: z.array(z.object({ runId: z.string(), status: z.string() })).default([]),
  claims: z
    .object({
      status: z.enum(["supported", "unsupported_claims"]),
      unsupported: z.array(z.object({ pass: z.string(), claim: z.string(), problem: z.string() })),
    })
    .nullable()
    .default(null),
  repairs: z.number().default(0),
  segmented: z.boolean().default(false),
  warnings: z.array(z.string()).default([]),
  changedPaths: z.array(z.string()).default([]),
  error: z.object({ code: z.string(), message: z.string() }).nullable().default(null),
  feedback: z.object({ approved: z.boolean(), note: z.string().nullable(), at: z.string() }).nullable().default(null),
});

type Row = typeof tables.contextSessions.$inferSelect;

function metaOf(row: Row) {
  const parsed = StoredMeta.safeParse(JSON.parse(row.resultMeta ?? "{}"));
  // A row this schema cannot read is reported as what is known of it, never as a 500.
  return parsed.success
    ? parsed.data
    : StoredMeta.parse({ status: "failed", error: { code: "unreadable_record", message: "the stored record could not be read" } });
}

function summaryOf(row: Row) {
  const m = metaOf(row);
  return {
    id: row.sessionId,
    projectId: row.projectId,
    sessionId: m.sessionId,
    model: row.model,
    vendor: m.vendor,
    status: m.status,
    createdAt: new Date(row.createdAt).toISOString(),
    usage: m.usage,
    calls: m.calls.length,
    claims: m.claims?.status ?? null,
  };
}

/** One generation's full decision log; 404 for another org's, a project the key may not touch, or an assembly's id. */
export async function readGeneration(db: Db, access: Access, id: string) {
  const t = tables.contextSessions;
  const row = id.startsWith(GENERATION_ID)
    ? await db
        .select()
        .from(t)
        .where(and(eq(t.sessionId, id), eq(t.orgId, access.orgId)))
        .get()
    : undefined;
  if (!row || !mayTouch(access, row.projectId)) throw notFound("generation");
  const m = metaOf(row);
  return {
    ...summaryOf(row),
    calls: m.calls.map((c) => ({ ...c, model: c.model ?? row.model, vendor: c.vendor ?? m.vendor })),
    decisions: m.decisions,
    verification: m.verification,
    claims: m.claims,
    repairs: m.repairs,
    segmented: m.segmented,
    warnings: m.warnings,
    changedPaths: m.changedPaths,
    error: m.error,
    feedback: m.feedback,
  };
}

/** A page of the org's generations, newest first; `projectId` must be one the key may touch (checked by the caller). */
export async function listGenerations(db: Db, access: Access, q: GenerationsQuery) {
  const t = tables.contextSessions;
  const after = q.cursor ? decodePageCursor(q.cursor) : undefined;
  const rows = await db
    .select()
    .from(t)
    .where(
      and(
        eq(t.orgId, access.orgId),
        like(t.sessionId, `${GENERATION_ID}%`),
        q.projectId ? eq(t.projectId, q.projectId) : undefined,
        access.projectIds ? inArray(t.projectId, [...access.projectIds]) : undefined,
        q.from ? gte(t.createdAt, Date.parse(q.from)) : undefined,
        q.to ? lte(t.createdAt, Date.parse(q.to)) : undefined,
        afterCursor(t.createdAt, t.sessionId, after),
      ),
    )
    .orderBy(desc(t.createdAt), desc(t.sessionId))
    .limit(q.limit + 1)
    .all();
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    generations: page.map(summaryOf),
    nextCursor: rows.length > q.limit && last ? encodePageCursor({ at: last.createdAt, id: last.sessionId }) : null,
  };
}
