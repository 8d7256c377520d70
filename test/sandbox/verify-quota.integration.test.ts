/** The generation loop's verification runs count against the org's sandbox limits like the API's runs. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { orgWide } from "../../src/lib/auth/access";
import { AppError } from "../../src/lib/errors";
import { getProject } from "../../src/lib/projects/projects";
import { isUnverifiable, verifyChange } from "../../src/lib/sandbox/runs";
import { openDb } from "../../src/lib/storage";
import { api, ingestTree, json, newOrg } from "../support/api";

const files = [
  { path: "package.json", content: JSON.stringify({ name: "t", scripts: { test: "node test.js" } }) },
  { path: "test.js", content: "console.log('ok')\n" },
];

async function orgProject() {
  const org = await newOrg("verify-quota");
  const projectId = await ingestTree(files, {}, org.apiKey);
  const db = openDb(env.DB);
  return { org, db, project: await getProject(db, projectId, orgWide(org.orgId)) };
}

const setLimits = (orgId: string, token: string, body: unknown) =>
  api(`/api/orgs/${orgId}/limits`, { method: "PUT", token, body: JSON.stringify(body), headers: { "content-type": "application/json" } });

describe("verifyChange", () => {
  it("adds the run's wall time to the org's sandbox minutes", async () => {
    const { org, db, project } = await orgProject();
    const run = await verifyChange(env, db, project, { files: [], deletions: [] }, undefined, () => undefined);
    expect(run.status).toBe("passed");
    const row = await env.DB.prepare("SELECT sum(sandbox_ms) AS ms, sum(requests) AS n FROM usage_daily WHERE org_id = ?")
      .bind(org.orgId)
      .first<{ ms: number; n: number }>();
    expect(row?.n).toBe(1);
    expect(row?.ms).toBeGreaterThan(0);
  });

  it("is refused, running nothing, when the org's sandbox minutes or concurrent runs are used up; the loop calls that unverified", async () => {
    const { org, db, project } = await orgProject();
    await json(await setLimits(org.orgId, org.apiKey, { sandboxMinutesPerDay: 0 }), 200);
    const minutes = await verifyChange(env, db, project, { files: [], deletions: [] }, undefined, () => undefined).catch((e: unknown) => e);
    expect(minutes).toBeInstanceOf(AppError);
    expect(minutes).toMatchObject({ status: 402, code: "quota_exceeded" });
    expect(isUnverifiable(minutes)).toBe(true);
    await json(await setLimits(org.orgId, org.apiKey, { sandboxMinutesPerDay: null, concurrentSandboxRuns: 0 }), 200);
    const concurrent = await verifyChange(env, db, project, { files: [], deletions: [] }, undefined, () => undefined).catch((e: unknown) => e);
    expect(concurrent).toMatchObject({ status: 429, code: "sandbox_concurrency_limit" });
    const runs = await env.DB.prepare("SELECT count(*) AS n FROM sandbox_runs WHERE org_id = ?").bind(org.orgId).first<{ n: number }>();
    expect(runs?.n).toBe(0);
  });
});
