/** The audit log: who did what, under which request, how it ended — never content; the org's own only. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AuditView } from "../../src/lib/audit/audit-log";
import { hmacSha256Hex } from "../../src/lib/crypto/hash";
import { expireRows } from "../../src/lib/retention";
import { openDb } from "../../src/lib/storage";
import { api, createProject, json, newOrg } from "../support/api";

type Entry = AuditView;
type Page = { entries: Entry[]; nextCursor: string | null };

const send = (method: string, path: string, token: string, body?: unknown, ray = crypto.randomUUID()) =>
  api(path, { method, token, headers: { "content-type": "application/json", "cf-ray": ray }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

/** The audit rows are written after the answer (waitUntil): poll until `n` are there. */
async function audit(token: string, query = "", n = 1): Promise<Entry[]> {
  for (let i = 0; ; i++) {
    const page = await json<Page>(await api(`/api/audit?limit=500${query}`, { token }), 200);
    if (page.entries.length >= n || i > 50) return page.entries;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("GET /api/audit", () => {
  it("records each change with the key, the route, the ids, the request and the outcome, and no content", async () => {
    const org = await newOrg("audited");
    const [created] = await audit(org.apiKey, "&action=POST%20/api/orgs");
    expect(created).toMatchObject({ actor: "operator", keyId: null, targets: { orgId: org.orgId, keyId: org.keyId }, outcome: "ok" });

    const projectId = (await json<{ projectId: string }>(await send("POST", "/api/projects", org.apiKey, { name: "p" }, "ray-create"), 201)).projectId;
    const minted = await json<{ keyId: string; apiKey: string }>(
      await send("POST", "/api/keys", org.apiKey, { name: "ci", scopes: ["read"] }, "ray-mint"),
      201,
    );
    await send("PUT", `/api/projects/${projectId}/repository`, org.apiKey, { fullName: "acme/app", token: "github_pat_SECRET" }, "ray-link");
    const secretPrompt = "the body of this prompt must never be stored in the audit log";
    await send("POST", "/api/context/assemble", minted.apiKey, { projectId, prompt: secretPrompt, budget: 4096 }, "ray-assemble");
    // Refused (the key lacks the scope): recorded too, as refused.
    await send("DELETE", `/api/projects/${projectId}`, minted.apiKey, undefined, "ray-refused");
    await send("DELETE", `/api/keys/${minted.keyId}`, org.apiKey, undefined, "ray-revoke");

    const entries = await audit(org.apiKey, "", 7);
    const byRay = Object.fromEntries(entries.map((e) => [e.requestId, e]));
    expect(byRay["ray-create"]).toMatchObject({ actor: "key", keyId: org.keyId, action: "POST /api/projects", status: 201, outcome: "ok" });
    expect(byRay["ray-mint"]).toMatchObject({ action: "POST /api/keys", status: 201 });
    expect(byRay["ray-link"]).toMatchObject({ action: "PUT /api/projects/:projectId/repository", projectId, targets: { projectId } });
    expect(byRay["ray-assemble"]).toMatchObject({ keyId: minted.keyId, action: "POST /api/context/assemble", projectId, outcome: "ok" });
    expect(byRay["ray-refused"]).toMatchObject({ keyId: minted.keyId, action: "DELETE /api/projects/:projectId", status: 403, outcome: "refused" });
    expect(byRay["ray-revoke"]).toMatchObject({ action: "DELETE /api/keys/:keyId", targets: { keyId: minted.keyId } });
    const stored = await env.DB.prepare("SELECT * FROM audit_log WHERE org_id = ?").bind(org.orgId).all();
    const text = JSON.stringify(stored.results);
    expect(text).not.toContain(secretPrompt);
    expect(text).not.toContain("github_pat_SECRET");
    // Newest first; filters narrow it.
    expect(entries.map((e) => e.at)).toEqual([...entries.map((e) => e.at)].sort().reverse());
    expect((await audit(org.apiKey, `&keyId=${minted.keyId}`, 2)).map((e) => e.requestId).sort()).toEqual(["ray-assemble", "ray-refused"]);
    expect((await audit(org.apiKey, "&outcome=refused")).map((e) => e.requestId)).toEqual(["ray-refused"]);
  });

  it("records signed webhook deliveries under the project's org", async () => {
    const org = await newOrg("hooks");
    const projectId = await createProject(org.apiKey);
    const link = await json<{ webhookSecret: string; webhookPath: string }>(
      await send("PUT", `/api/projects/${projectId}/repository`, org.apiKey, { fullName: "acme/hooked" }),
      200,
    );
    const body = new TextEncoder().encode(JSON.stringify({ zen: "hi" }));
    const headers = { "x-github-event": "ping", "x-github-delivery": "d-1", "x-hub-signature-256": `sha256=${await hmacSha256Hex(link.webhookSecret, body)}` };
    expect((await api(link.webhookPath, { method: "POST", body, headers, token: "" })).status).toBe(200);
    const [delivery] = await audit(org.apiKey, "&action=POST%20/api/webhooks/github/:projectId");
    expect(delivery).toMatchObject({ actor: "webhook", keyId: null, projectId, targets: { projectId, event: "ping", delivery: "d-1" }, outcome: "ok" });
  });

  it("shows an org its own log only, pages with a cursor, and follows the org's retention", async () => {
    const org = await newOrg("paged");
    const other = await newOrg("stranger");
    for (let i = 0; i < 3; i++) await send("POST", "/api/projects", org.apiKey, { name: `p${i}` });
    await audit(org.apiKey, "", 4);
    expect((await audit(other.apiKey)).every((e) => e.targets.orgId !== org.orgId)).toBe(true);
    const first = await json<Page>(await api("/api/audit?limit=2", { token: org.apiKey }), 200);
    const second = await json<Page>(await api(`/api/audit?limit=2&cursor=${encodeURIComponent(first.nextCursor ?? "")}`, { token: org.apiKey }), 200);
    expect(new Set([...first.entries, ...second.entries].map((e) => e.auditId)).size).toBe(4);
    expect((await json<{ error: { code: string } }>(await api("/api/audit?cursor=bm9wZQ", { token: org.apiKey }), 400)).error.code).toBe("invalid_cursor");

    await env.DB.prepare("UPDATE audit_log SET at = at - ? WHERE org_id = ?")
      .bind(91 * 24 * 3600 * 1000, org.orgId)
      .run();
    const report = await expireRows({ db: openDb(env.DB), bucket: env.CHUNKS }, { now: Date.now(), orgId: org.orgId });
    expect(report.auditLog).toBe(4);
    expect(await json<Page>(await api("/api/audit", { token: org.apiKey }), 200)).toMatchObject({ entries: [], nextCursor: null });
  });
});
