import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { collectGarbage, DAY_MS, enforceRetention, expireRows, type GcReport, sweepStaging, sweepUploads } from "../../src/lib/retention";
import { chunkKey, openDb, tables } from "../../src/lib/storage";
import worker from "../../workers/index";
import { api, createProject, json, newOrg } from "../support/api";

const db = openDb(env.DB);
const bucket = env.CHUNKS;
const deps = { db, bucket };
const HOUR = 60 * 60 * 1000;

const patch = (path: string, body: unknown, token: string) =>
  api(path, { method: "PATCH", body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json" }, token });

async function sha(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function exists(key: string): Promise<boolean> {
  return (await bucket.head(key)) !== null;
}

/** A chunk row (live or retired) of `projectId` whose text is `text`, with its object in R2. */
async function chunk(projectId: string, text: string, retiredAt?: number): Promise<string> {
  const s = await sha(text);
  const key = chunkKey(projectId, s);
  await bucket.put(key, text);
  const row = {
    chunkId: `chk_${crypto.randomUUID()}`,
    projectId,
    path: `src/${s.slice(0, 8)}.ts`,
    ordinal: 0,
    startLine: 1,
    endLine: 1,
    byteOffset: 0,
    byteLength: text.length,
    tokenCount: 3,
    sha256: s,
    r2Key: key,
    type: "code",
    createdAt: Date.now(),
  };
  if (retiredAt === undefined) await db.insert(tables.chunks).values(row);
  else await db.insert(tables.retiredChunks).values({ ...row, retiredAt });
  return key;
}

/** Runs collectGarbage over one project until its listing is done, a page of `limit` keys at a time. */
async function gcProject(projectId: string, now: number, limit = 1000): Promise<GcReport[]> {
  const reports: GcReport[] = [];
  for (;;) {
    const r = await collectGarbage(deps, { now, limit, projectId });
    reports.push(r);
    if (r.done) return reports;
  }
}

describe("garbage collection of chunk objects", () => {
  it("collects objects of expired retired chunks, never a referenced one, sparing fresh ones and other projects", async () => {
    const short = await newOrg("retention");
    const long = await newOrg("retention");
    await json(await patch(`/api/orgs/${long.orgId}/settings`, { auditRetentionDays: 365 }, long.apiKey), 200);
    const p1 = await createProject(short.apiKey);
    const p2 = await createProject(long.apiKey);

    const live = await chunk(p1, "live text");
    const retired = await chunk(p1, "retired text", Date.now());
    const retiredAlsoLive = await chunk(p1, "shared text", Date.now());
    const stray = chunkKey(p1, await sha("an object no row names"));
    await bucket.put(stray, "an object no row names");
    const otherShared = await chunk(p2, "shared text");
    const otherRetired = await chunk(p2, "retired elsewhere", Date.now());

    const later = Date.now() + 91 * DAY_MS;
    // Retention: the short-retention org's retired rows go, the other org (365 days) keeps its own.
    expect((await expireRows(deps, { now: later, orgId: short.orgId })).retiredChunks).toBe(2);
    expect((await expireRows(deps, { now: later, orgId: long.orgId })).retiredChunks).toBe(0);
    const retiredLeft = await env.DB.prepare("SELECT project_id FROM retired_chunks WHERE project_id IN (?, ?)").bind(p1, p2).all<{ project_id: string }>();
    expect(retiredLeft.results).toEqual([{ project_id: p2 }]);

    // Within the grace period nothing unreferenced is deleted: it may be an ingestion's write in flight.
    const fresh = await gcProject(p1, Date.now());
    expect(fresh.reduce((n, r) => n + r.deleted, 0)).toBe(0);
    expect(fresh.reduce((n, r) => n + r.spared, 0)).toBe(3);
    for (const key of [live, retired, retiredAlsoLive, stray]) expect(await exists(key)).toBe(true);

    // Past it, in pages of two keys with the cursor carried between runs.
    const pages = await gcProject(p1, Date.now() + 2 * HOUR, 2);
    expect(pages.length).toBe(2);
    expect(pages[0]?.done).toBe(false);
    expect(pages.reduce((n, r) => n + r.deleted, 0)).toBe(3);
    expect(await exists(live)).toBe(true);
    for (const key of [retired, retiredAlsoLive, stray]) expect(await exists(key)).toBe(false);

    // A sha that another project still uses kept that project's object; its retired chunk keeps its own.
    expect((await gcProject(p2, later)).reduce((n, r) => n + r.deleted, 0)).toBe(0);
    expect(await exists(otherShared)).toBe(true);
    expect(await exists(otherRetired)).toBe(true);
  });
});

describe("retention per org", () => {
  it("removes sandbox runs with their objects, audit rows and idle sessions past retention, and keeps recent ones", async () => {
    const org = await newOrg("retention");
    const projectId = await createProject(org.apiKey);
    const now = Date.now();
    const run = async (runId: string, createdAt: number): Promise<string[]> => {
      await db.insert(tables.sandboxRuns).values({ runId, projectId, orgId: org.orgId, request: "{}", status: "passed", createdAt });
      const keys = ["input.json", "results.json", "artifacts/src/a.ts"].map((n) => `sandbox/${projectId}/${runId}/${n}`);
      for (const k of keys) await bucket.put(k, "x");
      return keys;
    };
    const oldRun = await run(`run_old_${crypto.randomUUID()}`, now - 31 * DAY_MS);
    const newRun = await run(`run_new_${crypto.randomUUID()}`, now - 29 * DAY_MS);
    const audit = (sessionId: string, createdAt: number) =>
      db.insert(tables.contextSessions).values({ sessionId, projectId, orgId: org.orgId, chunksUsed: "[]", tokensAtCall: 1, model: "m", createdAt });
    const oldAudit = `cs_old_${crypto.randomUUID()}`;
    const newAudit = `cs_new_${crypto.randomUUID()}`;
    await audit(oldAudit, now - 91 * DAY_MS);
    await audit(newAudit, now - 89 * DAY_MS);
    const idle = `ses_idle_${crypto.randomUUID()}`;
    const active = `ses_active_${crypto.randomUUID()}`;
    await db.insert(tables.sessions).values([
      { sessionId: idle, projectId, orgId: org.orgId, lastActiveAt: now - 8 * DAY_MS },
      { sessionId: active, projectId, orgId: org.orgId, lastActiveAt: now - DAY_MS },
    ]);
    const wiped: string[] = [];

    const report = await expireRows({ ...deps, wipeSession: async (id) => void wiped.push(id) }, { now, orgId: org.orgId });
    expect(report).toMatchObject({ sandboxRuns: 1, sandboxObjects: 3, auditRows: 1, sessions: 1, done: true });
    expect(wiped).toEqual([idle]);
    for (const k of oldRun) expect(await exists(k)).toBe(false);
    for (const k of newRun) expect(await exists(k)).toBe(true);
    const runs = await env.DB.prepare("SELECT run_id FROM sandbox_runs WHERE project_id = ?").bind(projectId).all<{ run_id: string }>();
    expect(runs.results.map((r) => r.run_id)).toEqual([newRun[0]?.split("/")[2]]);
    const audits = await env.DB.prepare("SELECT session_id FROM context_sessions WHERE project_id = ?").bind(projectId).all<{ session_id: string }>();
    expect(audits.results.map((r) => r.session_id)).toEqual([newAudit]);
    const sessions = await env.DB.prepare("SELECT session_id FROM sessions WHERE project_id = ?").bind(projectId).all<{ session_id: string }>();
    expect(sessions.results.map((r) => r.session_id)).toEqual([active]);

    // The org's own settings apply: a shorter sandbox retention takes the remaining run too.
    await json(await patch(`/api/orgs/${org.orgId}/settings`, { sandboxRunRetentionDays: 7 }, org.apiKey), 200);
    expect((await expireRows(deps, { now, orgId: org.orgId })).sandboxRuns).toBe(1);
    for (const k of newRun) expect(await exists(k)).toBe(false);
  });

  it("walks orgs a page at a time and comes back to a page whose rows did not fit", async () => {
    const org = await newOrg("retention");
    const projectId = await createProject(org.apiKey);
    const old = Date.now() - 100 * DAY_MS;
    for (let i = 0; i < 5; i++) {
      await db
        .insert(tables.contextSessions)
        .values({ sessionId: `cs_${i}_${crypto.randomUUID()}`, projectId, orgId: org.orgId, chunksUsed: "[]", tokensAtCall: 1, model: "m", createdAt: old });
    }
    const first = await expireRows(deps, { now: Date.now(), orgId: org.orgId, limit: 3 });
    expect(first).toMatchObject({ auditRows: 3, done: false });
    expect(await expireRows(deps, { now: Date.now(), orgId: org.orgId, limit: 3 })).toMatchObject({ auditRows: 2, done: true });
  });
});

describe("ingestion leftovers", () => {
  it("removes staged batches of failed, finished and abandoned jobs, and spares a job still moving", async () => {
    const org = await newOrg("retention");
    const projectId = await createProject(org.apiKey);
    const jobId = `job_${crypto.randomUUID()}`;
    const now = Date.now();
    await db
      .insert(tables.ingestJobs)
      .values({ jobId, projectId, orgId: org.orgId, source: "upload", batchCount: 3, filesTotal: 3, filesUnchanged: 0, filesIgnored: 0, createdAt: now });
    await db.insert(tables.jobBatches).values([
      { jobId, seq: 0, status: "failed", finishedAt: now },
      { jobId, seq: 1, status: "done", finishedAt: now },
      { jobId, seq: 2, status: "queued" },
    ]);
    const key = (job: string, seq: number) => `staging/${projectId}/${job}/${seq}.json`;
    for (const seq of [0, 1, 2]) await bucket.put(key(jobId, seq), "{}");
    const orphan = key(`job_${crypto.randomUUID()}`, 0);
    await bucket.put(orphan, "{}");

    // An hour on: the failed and finished batches go; the queued one and the object without a job stay.
    expect(await sweepStaging(deps, { now: now + HOUR, projectId })).toMatchObject({ listed: 4, deleted: 2, done: true });
    expect(await exists(key(jobId, 0))).toBe(false);
    expect(await exists(key(jobId, 1))).toBe(false);
    expect(await exists(key(jobId, 2))).toBe(true);
    expect(await exists(orphan)).toBe(true);
    // A day without progress: the job is abandoned, and staging that never got its job row is too.
    expect(await sweepStaging(deps, { now: now + 25 * HOUR, projectId })).toMatchObject({ deleted: 2 });
    expect(await exists(key(jobId, 2))).toBe(false);
    expect(await exists(orphan)).toBe(false);
  });

  it("aborts a multipart upload idle for a day and deletes archives left under uploads/", async () => {
    const org = await newOrg("retention");
    const projectId = await createProject(org.apiKey);
    const uploadId = `upl_${crypto.randomUUID()}`;
    const r2Key = `uploads/${projectId}/${uploadId}`;
    const mpu = await bucket.createMultipartUpload(r2Key);
    const part = await mpu.uploadPart(1, "a small last part");
    const now = Date.now();
    await db
      .insert(tables.uploads)
      .values({ uploadId, projectId, orgId: org.orgId, r2Key, r2UploadId: mpu.uploadId, format: "tar.gz", status: "open", updatedAt: now });
    const leftover = `uploads/${projectId}/upl_left_behind`;
    await bucket.put(leftover, "archive");
    const status = async () => (await env.DB.prepare("SELECT status FROM uploads WHERE upload_id = ?").bind(uploadId).first<{ status: string }>())?.status;

    expect(await sweepUploads(deps, { now: now + HOUR, projectId })).toMatchObject({ aborted: 0, archivesDeleted: 0 });
    expect(await status()).toBe("open");
    expect(await exists(leftover)).toBe(true);

    expect(await sweepUploads(deps, { now: now + 25 * HOUR, projectId })).toMatchObject({ aborted: 1, archivesDeleted: 1 });
    expect(await status()).toBe("aborted");
    expect(await exists(leftover)).toBe(false);
    await expect(bucket.resumeMultipartUpload(r2Key, mpu.uploadId).complete([part])).rejects.toThrow();
  });

  it("enforceRetention runs every step for one org and project", async () => {
    const org = await newOrg("retention");
    const projectId = await createProject(org.apiKey);
    const report = await enforceRetention(deps, { now: Date.now(), orgId: org.orgId, projectId });
    expect(report).toMatchObject({ rows: { done: true }, staging: { listed: 0, done: true }, uploads: { aborted: 0, done: true } });
  });
});

describe("GET/PATCH /api/orgs/:orgId/settings", () => {
  it("reads the defaults, sets and clears a setting, and refuses other orgs and bad input", async () => {
    const org = await newOrg("retention");
    const other = await newOrg("retention");
    const path = `/api/orgs/${org.orgId}/settings`;
    const defaults = { auditRetentionDays: 90, sandboxRunRetentionDays: 30, sessionRetentionDays: 7 };
    expect(await json(await api(path, { token: org.apiKey }), 200)).toEqual({
      orgId: org.orgId,
      retention: { ...defaults, stored: { auditRetentionDays: null, sandboxRunRetentionDays: null, sessionRetentionDays: null }, defaults },
      secretHandling: "mask",
      // Issue 17's governance settings, at their defaults (test/governance/settings.integration.test.ts).
      maxContextTokens: null,
      allowedModels: null,
      generationDefault: "on",
      complianceMode: false,
      modelSummaries: null,
      summaryBudgetUsd: 1,
      rerank: false,
      allowInstallScripts: false,
    });

    const set = await json<{ retention: Record<string, unknown> }>(await patch(path, { auditRetentionDays: 400, sessionRetentionDays: 3 }, org.apiKey), 200);
    expect(set.retention).toMatchObject({ auditRetentionDays: 400, sandboxRunRetentionDays: 30, sessionRetentionDays: 3 });
    const cleared = await json<{ retention: Record<string, unknown> }>(await patch(path, { auditRetentionDays: null }, org.apiKey), 200);
    expect(cleared.retention).toMatchObject({
      auditRetentionDays: 90,
      sessionRetentionDays: 3,
      stored: { auditRetentionDays: null, sandboxRunRetentionDays: null, sessionRetentionDays: 3 },
    });

    // Another org's settings, read or written, are answered like a missing org.
    const missing = await json(await api("/api/orgs/org_missing/settings", { token: org.apiKey }), 404);
    expect(await json(await api(`/api/orgs/${other.orgId}/settings`, { token: org.apiKey }), 404)).toEqual(missing);
    expect(await json(await patch(`/api/orgs/${other.orgId}/settings`, { auditRetentionDays: 5 }, org.apiKey), 404)).toEqual(missing);
    expect(
      (await json<{ retention: { auditRetentionDays: number } }>(await api(`/api/orgs/${other.orgId}/settings`, { token: other.apiKey }), 200)).retention
        .auditRetentionDays,
    ).toBe(90);

    const bad = await json<{ error: { code: string; message: string; issues: { path: string; message: string }[] } }>(
      await patch(path, { auditRetentionDays: 0, sandboxRunRetentionDays: 1.5, sessionRetentionDays: "7" }, org.apiKey),
      400,
    );
    expect(bad.error.code).toBe("invalid_request");
    expect(typeof bad.error.message).toBe("string");
    expect(bad.error.issues.map((i) => i.path).sort()).toEqual(["auditRetentionDays", "sandboxRunRetentionDays", "sessionRetentionDays"]);
    expect((await json<{ error: { code: string } }>(await patch(path, { auditRetentionDays: 3651 }, org.apiKey), 400)).error.code).toBe("invalid_request");
    const unknown = await json<{ error: { issues: { message: string }[] } }>(await patch(path, { keepForever: true }, org.apiKey), 400);
    expect(unknown.error.issues.some((i) => i.message.includes("keepForever"))).toBe(true);
    expect((await json<{ error: { code: string } }>(await patch(path, {}, org.apiKey), 400)).error.code).toBe("invalid_request");
    expect((await json<{ error: { code: string } }>(await patch(path, "{", org.apiKey), 400)).error.code).toBe("invalid_json");
    // Nothing was changed by the refused requests.
    expect((await json<{ retention: { sessionRetentionDays: number } }>(await api(path, { token: org.apiKey }), 200)).retention.sessionRetentionDays).toBe(3);
  });
});

describe("the scheduled handler", () => {
  it("runs one bounded maintenance pass at the cron's time and records where each walk stopped", async () => {
    const ctx = createExecutionContext();
    // The real clock: nothing younger than its grace period or retention is touched by this full pass.
    worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const names = await env.DB.prepare("SELECT name FROM maintenance_cursors WHERE name IN ('gc:chunks', 'sweep:staging', 'sweep:uploads')").all<{
      name: string;
    }>();
    expect(names.results.map((r) => r.name).sort()).toEqual(["gc:chunks", "sweep:staging", "sweep:uploads"]);
  });
});
