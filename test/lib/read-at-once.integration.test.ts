/** Reads sent to D1 as one batch: one round trip, the same values as alone, and the first error in order. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { governanceRead, readGovernance } from "../../src/lib/governance";
import { getProject, projectRead, sessionProjectRead } from "../../src/lib/projects/projects";
import { openDb, readAtOnce } from "../../src/lib/storage";
import { checkQuota, quotaRead } from "../../src/lib/usage";
import { api, createProject, json, newOrg } from "../support/api";

/** The D1 binding, counting its batches (by size) and the statements run alone. */
function counted(d1: D1Database) {
  const sent = { batches: [] as number[], alone: 0 };
  const real = new WeakMap<object, D1PreparedStatement>();
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const wrapped = new Proxy(statement, {
      get(target, key) {
        if (key === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        const value: unknown = Reflect.get(target, key);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (key === "all" || key === "raw" || key === "first" || key === "run") sent.alone++;
          return Reflect.apply(value, target, args);
        };
      },
    });
    real.set(wrapped, statement);
    return wrapped;
  };
  const binding = new Proxy(d1, {
    get(target, key) {
      if (key === "prepare") return (query: string) => wrap(target.prepare(query));
      if (key === "batch")
        return (statements: D1PreparedStatement[]) => {
          sent.batches.push(statements.length);
          return target.batch(statements.map((s) => real.get(s) ?? s));
        };
      const value: unknown = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: openDb(binding), sent };
}

const today = () => new Date().toISOString().slice(0, 10);

const send = (method: string, path: string, token: string, body: unknown) =>
  api(path, { method, token, body: JSON.stringify(body), headers: { "content-type": "application/json" } });

async function newSession(token: string, projectId: string): Promise<string> {
  return (await json<{ sessionId: string }>(await send("POST", "/api/sessions", token, { projectId }), 201)).sessionId;
}

async function orgWithProject(name: string) {
  const org = await newOrg(name);
  return { ...org, projectId: await createProject(org.apiKey) };
}

async function setLimits(orgId: string, token: string, limits: Record<string, unknown>) {
  await json(await send("PUT", `/api/orgs/${orgId}/limits`, token, limits), 200);
}

async function spendTokens(orgId: string, projectId: string, tokens: number) {
  await env.DB.prepare(
    "INSERT INTO usage_daily (org_id, day, project_id, key_id, model, tokens_assembled, cost_micro_usd, sandbox_ms, requests) VALUES (?, ?, ?, 'key_seed', '', ?, 0, 0, 0)",
  )
    .bind(orgId, today(), projectId, tokens)
    .run();
}

describe("readAtOnce", () => {
  it("sends an assembly's project, governance and quota reads as one batch of five queries, with the values each gives alone", async () => {
    const org = await orgWithProject("batch");
    await setLimits(org.orgId, org.apiKey, { tokensAssembledPerDay: 100_000 });
    await spendTokens(org.orgId, org.projectId, 85_000);
    const access = { orgId: org.orgId, projectIds: null };
    const { db, sent } = counted(env.DB);
    const [project, governance, warnings] = await readAtOnce(db, [
      projectRead(db, org.projectId, access),
      governanceRead(db, org.orgId),
      quotaRead(db, org.orgId, "tokens", { projectId: org.projectId }),
    ]);
    expect(sent).toEqual({ batches: [5], alone: 0 });
    const plain = openDb(env.DB);
    expect(project).toEqual(await getProject(plain, org.projectId, access));
    expect(governance).toEqual(await readGovernance(plain, org.orgId));
    expect(warnings).toEqual(await checkQuota(plain, org.orgId, "tokens", { projectId: org.projectId }));
    expect(warnings.join()).toContain("daily assembled tokens: 85%");
  });

  it("fails with the first error in the order given: a foreign project before a used-up quota", async () => {
    const mine = await orgWithProject("mine");
    const theirs = await orgWithProject("theirs");
    await setLimits(mine.orgId, mine.apiKey, { tokensAssembledPerDay: 100_000 });
    await spendTokens(mine.orgId, mine.projectId, 100_000);
    const db = openDb(env.DB);
    const access = { orgId: mine.orgId, projectIds: null };
    const reads = (projectId: string) => readAtOnce(db, [projectRead(db, projectId, access), quotaRead(db, mine.orgId, "tokens", { projectId })]);
    await expect(reads(theirs.projectId)).rejects.toMatchObject({ status: 404, code: "not_found" });
    await expect(reads(mine.projectId)).rejects.toMatchObject({ status: 402, code: "quota_exceeded" });
    // Through the API: another org's project is missing to this key, used-up quota or not.
    const ask = (projectId: string) => send("POST", "/api/context/assemble", mine.apiKey, { projectId, prompt: "where is add", budget: 4096 });
    expect((await ask(theirs.projectId)).status).toBe(404);
    expect((await ask(mine.projectId)).status).toBe(402);
  });

  it("sends nothing for a project outside the key's list: it is refused before any query", async () => {
    const org = await orgWithProject("limited");
    const { db, sent } = counted(env.DB);
    expect(() => projectRead(db, org.projectId, { orgId: org.orgId, projectIds: ["prj_other"] })).toThrow(expect.objectContaining({ status: 404 }));
    await expect(getProject(db, org.projectId, { orgId: org.orgId, projectIds: ["prj_other"] })).rejects.toMatchObject({ status: 404 });
    expect(sent).toEqual({ batches: [], alone: 0 });
  });

  it("reads a session's project joined to the org's session row: none for another org's session", async () => {
    const mine = await orgWithProject("sessions");
    const theirs = await newOrg("sessions-other");
    const sessionId = await newSession(mine.apiKey, mine.projectId);
    const { db, sent } = counted(env.DB);
    const [own, foreign] = await readAtOnce(db, [sessionProjectRead(db, sessionId, mine.orgId), sessionProjectRead(db, sessionId, theirs.orgId)]);
    expect(sent).toEqual({ batches: [2], alone: 0 });
    expect(own).toEqual(await getProject(openDb(env.DB), mine.projectId, { orgId: mine.orgId, projectIds: null }));
    expect(foreign).toBeUndefined();
  });

  it("judges a session assembly's model before its quota, and passes the quota's warning on", async () => {
    const org = await orgWithProject("session-order");
    const sessionId = await newSession(org.apiKey, org.projectId);
    await json(await send("PATCH", `/api/orgs/${org.orgId}/settings`, org.apiKey, { allowedModels: ["claude-opus-4-7"] }), 200);
    await setLimits(org.orgId, org.apiKey, { tokensAssembledPerDay: 100_000 });
    await spendTokens(org.orgId, org.projectId, 100_000);
    const ask = (model?: string) =>
      send("POST", `/api/sessions/${sessionId}/assemble`, org.apiKey, { prompt: "where is add", budget: 4096, ...(model ? { model } : {}) });
    expect((await json<{ error: { code: string } }>(await ask(), 400)).error.code).toBe("model_not_allowed");
    expect((await json<{ error: { code: string } }>(await ask("claude-opus-4-7"), 402)).error.code).toBe("quota_exceeded");
    await env.DB.prepare("UPDATE usage_daily SET tokens_assembled = 85000 WHERE org_id = ?").bind(org.orgId).run();
    const warned = await ask("claude-opus-4-7");
    expect(warned.status).toBe(200);
    expect(warned.headers.get("x-winky-quota-warning")).toContain("daily assembled tokens: 85%");
  });
});
