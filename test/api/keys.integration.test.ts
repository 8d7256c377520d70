/** API keys: minting within the creator's rights, listing without secrets, revocation on the next request and on open sockets. */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SCOPES } from "../../src/lib/auth";
import { ADMIN, api, BOOTSTRAP, createProject, ingestTree, json, newOrg } from "../support/api";

type KeyView = {
  keyId: string;
  name: string;
  prefix: string;
  scopes: string[];
  projectIds: string[] | null;
  expiresAt: string | null;
  createdBy: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
};
type ErrorBody = { error: { code: string; message: string } };

const post = (path: string, body: unknown, token = ADMIN) =>
  api(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" }, token });
const mint = (body: Record<string, unknown>, token = ADMIN) => post("/api/keys", { name: "k", ...body }, token);

describe("POST /api/orgs", () => {
  it("creates an org whose first key is an admin holding every scope, made by no key", async () => {
    const org = await newOrg("acme");
    expect(org.apiKey).toMatch(/^wk_/);
    const { keys } = await json<{ keys: KeyView[] }>(await api("/api/keys", { token: org.apiKey }), 200);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ keyId: org.keyId, scopes: [...SCOPES], projectIds: null, expiresAt: null, createdBy: null, revokedAt: null });
    expect(org.apiKey.startsWith(keys[0]?.prefix ?? "?")).toBe(true);
  });

  it("is refused to every API key, even an admin one; the bootstrap token reaches nothing else", async () => {
    expect((await json<ErrorBody>(await post("/api/orgs", { name: "x" }), 403)).error.code).toBe("forbidden");
    expect((await json<ErrorBody>(await api("/api/projects", { token: BOOTSTRAP }), 403)).error.message).toContain("only creates orgs");
  });
});

describe("POST /api/keys", () => {
  it("grants the creator's own scopes, projects and expiry by default, and never more than it holds", async () => {
    const projectId = await createProject();
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const narrow = await json<{ keyId: string; apiKey: string }>(await mint({ scopes: ["read", "admin"], projectIds: [projectId], expiresAt }), 201);
    // Defaults: what the creator holds.
    const child = await json<{ keyId: string }>(await mint({}, narrow.apiKey), 201);
    const { keys } = await json<{ keys: KeyView[] }>(await api("/api/keys"), 200);
    expect(keys.find((k) => k.keyId === child.keyId)).toMatchObject({ scopes: ["read", "admin"], projectIds: [projectId], expiresAt, createdBy: narrow.keyId });

    const refused = await json<ErrorBody>(await mint({ scopes: ["read", "generate"] }, narrow.apiKey), 403);
    expect(refused.error.message).toContain("generate");
    expect((await json<ErrorBody>(await mint({ projectIds: [await createProject()] }, narrow.apiKey), 404)).error.code).toBe("not_found");
    const later = new Date(Date.now() + 7_200_000).toISOString();
    expect((await json<ErrorBody>(await mint({ expiresAt: later }, narrow.apiKey), 403)).error.message).toContain("outlive");
  });

  it("refuses unknown scopes, foreign or unknown projects, past expiries and extra fields with 400/404, and stores nothing", async () => {
    const before = await env.DB.prepare("SELECT count(*) AS n FROM api_keys").first<{ n: number }>();
    expect((await json<ErrorBody>(await mint({ scopes: ["root"] }), 400)).error.code).toBe("invalid_request");
    expect((await json<ErrorBody>(await mint({ expiresAt: new Date(Date.now() - 1000).toISOString() }), 400)).error.code).toBe("invalid_request");
    expect((await json<ErrorBody>(await mint({ role: "owner" }), 400)).error.code).toBe("invalid_request");
    const stranger = await newOrg("stranger");
    const foreign = await createProject(stranger.apiKey);
    expect((await json<ErrorBody>(await mint({ projectIds: [foreign] }), 404)).error.code).toBe("not_found");
    expect(
      (await json<ErrorBody>(await mint({ scopes: ["read"] }, (await json<{ apiKey: string }>(await mint({ scopes: ["read"] }), 201)).apiKey), 403)).error.code,
    ).toBe("forbidden");
    const after = await env.DB.prepare("SELECT count(*) AS n FROM api_keys").first<{ n: number }>();
    // The only key added is the read-only one minted to try minting with it; the stranger org's own key too.
    expect((after?.n ?? 0) - (before?.n ?? 0)).toBe(2);
  });
});

describe("GET /api/keys", () => {
  it("lists metadata and last use, never a key or its hash; a project-limited admin sees only keys within its projects", async () => {
    const projectId = await createProject();
    const limitedAdmin = await json<{ keyId: string; apiKey: string }>(await mint({ scopes: ["read", "admin"], projectIds: [projectId] }), 201);
    const inside = await json<{ keyId: string; apiKey: string }>(await mint({ scopes: ["read"] }, limitedAdmin.apiKey), 201);
    await json(await api(`/api/projects/${projectId}`, { token: inside.apiKey }), 200);
    const all = await api("/api/keys?limit=500");
    const text = await all.clone().text();
    expect(text).not.toContain(inside.apiKey);
    expect(text).not.toMatch(/keyHash|key_hash/);
    const { keys } = await json<{ keys: KeyView[] }>(all, 200);
    const used = keys.find((k) => k.keyId === inside.keyId);
    expect(used?.lastUsedAt).not.toBeNull();
    const seen = await json<{ keys: KeyView[] }>(await api("/api/keys?limit=500", { token: limitedAdmin.apiKey }), 200);
    expect(seen.keys.map((k) => k.keyId).sort()).toEqual([limitedAdmin.keyId, inside.keyId].sort());
    // Nor can it revoke a key that reaches further than it does.
    expect((await api("/api/keys/key_test_admin", { method: "DELETE", token: limitedAdmin.apiKey })).status).toBe(404);
  });

  it("pages newest first with a cursor, and rejects a forged cursor", async () => {
    const org = await newOrg("pages");
    for (let i = 0; i < 4; i++) await mint({ name: `k${i}` }, org.apiKey);
    const first = await json<{ keys: KeyView[]; nextCursor: string }>(await api("/api/keys?limit=3", { token: org.apiKey }), 200);
    const second = await json<{ keys: KeyView[]; nextCursor: string | null }>(
      await api(`/api/keys?limit=3&cursor=${encodeURIComponent(first.nextCursor)}`, { token: org.apiKey }),
      200,
    );
    expect([...first.keys, ...second.keys].map((k) => k.name)).toEqual(["k3", "k2", "k1", "k0", "pages (first admin key)"]);
    expect(second.nextCursor).toBeNull();
    expect((await json<ErrorBody>(await api("/api/keys?cursor=bm9wZQ", { token: org.apiKey }), 400)).error.code).toBe("invalid_cursor");
  });
});

describe("DELETE /api/keys/:keyId", () => {
  it("takes effect on the next request; another org's key reads as missing; revoking twice changes nothing", async () => {
    const key = await json<{ keyId: string; apiKey: string }>(await mint({ scopes: ["read"] }), 201);
    await json(await api("/api/projects", { token: key.apiKey }), 200);
    const stranger = await newOrg("stranger");
    expect((await api(`/api/keys/${key.keyId}`, { method: "DELETE", token: stranger.apiKey })).status).toBe(404);
    await json(await api("/api/projects", { token: key.apiKey }), 200);
    expect((await api(`/api/keys/${key.keyId}`, { method: "DELETE" })).status).toBe(204);
    expect((await json<ErrorBody>(await api("/api/projects", { token: key.apiKey }), 401)).error.code).toBe("key_revoked");
    expect((await api(`/api/keys/${key.keyId}`, { method: "DELETE" })).status).toBe(204);
    const { keys } = await json<{ keys: KeyView[] }>(await api("/api/keys?limit=500"), 200);
    expect(keys.find((k) => k.keyId === key.keyId)?.revokedAt).not.toBeNull();
  });

  it("closes the WebSockets the key opened within 10 s, and leaves other keys' sockets open", async () => {
    const projectId = await ingestTree([{ path: "a.js", content: "exports.a = 1;\n" }]);
    const { sessionId } = await json<{ sessionId: string }>(await post("/api/sessions", { projectId }), 201);
    const key = await json<{ keyId: string; apiKey: string }>(await mint({ scopes: ["read"] }), 201);
    const open = async (token: string) => {
      const res = await SELF.fetch(`https://winky.test/api/sessions/${sessionId}/ws`, { headers: { upgrade: "websocket", authorization: `Bearer ${token}` } });
      const ws = res.webSocket;
      if (!ws) throw new Error(`no socket: ${res.status}`);
      ws.accept();
      const closed = new Promise<{ code: number; at: number }>((resolve) => ws.addEventListener("close", (e) => resolve({ code: e.code, at: Date.now() })));
      return { ws, closed };
    };
    const revokedSocket = await open(key.apiKey);
    const keptSocket = await open(ADMIN);
    const revokedAt = Date.now();
    expect((await api(`/api/keys/${key.keyId}`, { method: "DELETE" })).status).toBe(204);
    const closed = await Promise.race([revokedSocket.closed, new Promise<undefined>((r) => setTimeout(r, 10_000))]);
    expect(closed, "the revoked key's socket is still open after 10 s").toBeDefined();
    expect(closed?.code).toBe(4401);
    expect((closed?.at ?? Infinity) - revokedAt).toBeLessThanOrEqual(10_000);
    const keptClosed = await Promise.race([keptSocket.closed, new Promise<undefined>((r) => setTimeout(r, 200))]);
    expect(keptClosed).toBeUndefined();
    keptSocket.ws.close(1000, "done");
  });
});

describe("expiry", () => {
  it("a key stops working when it expires", async () => {
    const key = await json<{ apiKey: string }>(await mint({ scopes: ["read"], expiresAt: new Date(Date.now() + 1500).toISOString() }), 201);
    await json(await api("/api/projects", { token: key.apiKey }), 200);
    await new Promise((r) => setTimeout(r, 1600));
    expect((await json<ErrorBody>(await api("/api/projects", { token: key.apiKey }), 401)).error.code).toBe("key_expired");
  });
});
