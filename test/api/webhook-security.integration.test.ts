/**
 * Webhooks as an attacker would use them: forged and replayed deliveries, pushes naming another
 * repository, an org linking a repository it cannot read, old commits. The fake git host's request log
 * proves no request leaves for a repository the project is not linked to.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hmacSha256Hex } from "../../src/lib/crypto/hash";
import { DELIVERY_RETENTION_MS } from "../../src/lib/ingest/enqueue-push";
import { enforceRetention } from "../../src/lib/retention";
import { openDb } from "../../src/lib/storage";
import { api, createProject, json, newOrg, waitForJob } from "../support/api";

type HostRequest = { method: string; url: string; status: number; authorization?: string };
type Hook = { projectId: string; path: string; secret: string };
const sha = (c: string): string => c.repeat(40);

async function control(path: string, body: unknown): Promise<void> {
  expect((await fetch(`${env.GIT_API_BASE_URL}${path}`, { method: "PUT", body: typeof body === "string" ? body : JSON.stringify(body) })).status).toBe(204);
}
const publish = (repo: string, ref: string, path: string, content: string) => control(`/__files/${repo}/${ref}/${encodeURIComponent(path)}`, content);
const hostLog = async (): Promise<HostRequest[]> => (await fetch(`${env.GIT_API_BASE_URL}/__log`)).json();

async function link(fullName: string, extra: Record<string, unknown> = {}, token?: string): Promise<Hook> {
  const projectId = await createProject(token);
  const linked = await json<{ webhookSecret: string; webhookPath: string }>(
    await api(`/api/projects/${projectId}/repository`, {
      method: "PUT",
      body: JSON.stringify({ fullName, ...extra }),
      headers: { "content-type": "application/json" },
      ...(token ? { token } : {}),
    }),
    200,
  );
  return { projectId, path: linked.webhookPath, secret: linked.webhookSecret };
}

const push = (repo: string, before: string, after: string, added: string[]) => ({
  ref: "refs/heads/main",
  before,
  after,
  repository: { full_name: repo, default_branch: "main" },
  commits: [{ id: after, added, removed: [], modified: [] }],
});

async function deliver(hook: Hook, payload: unknown, delivery?: string, rawBody?: Uint8Array): Promise<Response> {
  const body = rawBody ?? new TextEncoder().encode(JSON.stringify(payload));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-github-event": "push",
    "x-hub-signature-256": `sha256=${await hmacSha256Hex(hook.secret, body)}`,
  };
  if (delivery) headers["x-github-delivery"] = delivery;
  return api(hook.path, { method: "POST", body, headers, token: "" });
}

const jobCount = async (projectId: string): Promise<number> =>
  (await env.DB.prepare("SELECT count(*) AS n FROM ingest_jobs WHERE project_id = ?").bind(projectId).first<{ n: number }>())?.n ?? 0;

describe("webhook deliveries", () => {
  it("checks the signature before parsing: a forged body that is not even JSON answers 401, not 400", async () => {
    const hook = await link(`octo/sec-${crypto.randomUUID().slice(0, 8)}`);
    const forged = { ...hook, secret: "guessed" };
    const res = await deliver(forged, undefined, undefined, new TextEncoder().encode("{not json"));
    expect((await json<{ error: { code: string } }>(res, 401)).error.code).toBe("bad_signature");
    // An unknown project answers exactly like a wrong secret.
    const unknown = await deliver({ ...hook, path: "/api/webhooks/github/prj_000000000000000000000000" }, push("a/b", sha("0"), sha("1"), ["x"]));
    expect(await unknown.json()).toEqual(await (await deliver(forged, push("a/b", sha("0"), sha("1"), ["x"]))).json());
    expect(await jobCount(hook.projectId)).toBe(0);
  });

  it("takes a delivery once: a replay of the same X-GitHub-Delivery changes nothing", async () => {
    const repo = `octo/sec-${crypto.randomUUID().slice(0, 8)}`;
    const hook = await link(repo);
    await publish(repo, sha("1"), "a.ts", "export const a = 1;\n");
    const delivery = crypto.randomUUID();
    const first = await json<{ jobs: { jobId: string }[] }>(await deliver(hook, push(repo, sha("0"), sha("1"), ["a.ts"]), delivery), 202);
    expect((await waitForJob(first.jobs[0]?.jobId as string)).status).toBe("done");
    const replay = await json<{ ignored: string }>(await deliver(hook, push(repo, sha("0"), sha("1"), ["a.ts"]), delivery), 200);
    expect(replay.ignored).toContain("already received");
    expect(await jobCount(hook.projectId)).toBe(1);
  });

  it("ignores a push of the commit already indexed, or of an older one (no rollback)", async () => {
    const repo = `octo/sec-${crypto.randomUUID().slice(0, 8)}`;
    const hook = await link(repo);
    await publish(repo, sha("2"), "a.ts", "v2\n");
    await publish(repo, sha("1"), "a.ts", "v1\n");
    const newer = await json<{ jobs: { jobId: string }[] }>(await deliver(hook, push(repo, sha("1"), sha("2"), ["a.ts"])), 202);
    expect((await waitForJob(newer.jobs[0]?.jobId as string)).status).toBe("done");
    const again = await json<{ skipped: { reason: string }[] }>(await deliver(hook, push(repo, sha("1"), sha("2"), ["a.ts"])), 200);
    expect(again.skipped[0]?.reason).toContain("already indexed");
    // The host says commit 1 is behind commit 2: an old delivery replayed with a fresh id is refused.
    await control(`/__compare/${repo}/${sha("2")}/${sha("1")}`, { files: [], status: "behind" });
    const older = await json<{ skipped: { reason: string }[] }>(await deliver(hook, push(repo, sha("0"), sha("1"), ["a.ts"]), crypto.randomUUID()), 200);
    expect(older.skipped[0]?.reason).toContain("older than the indexed");
    expect(await jobCount(hook.projectId)).toBe(1);
  });

  it("never fetches the repository a payload names when the project is linked to another", async () => {
    const linkedRepo = `octo/mine-${crypto.randomUUID().slice(0, 8)}`;
    const victim = `victim/secret-${crypto.randomUUID().slice(0, 8)}`;
    const hook = await link(linkedRepo);
    await publish(victim, sha("1"), "keys.txt", "the victim's data\n");
    const res = await json<{ jobs: unknown[]; skipped: { reason: string }[] }>(await deliver(hook, push(victim, sha("0"), sha("1"), ["keys.txt"])), 200);
    expect(res.jobs).toEqual([]);
    expect(res.skipped[0]?.reason).toContain(`linked to ${linkedRepo}`);
    expect((await hostLog()).filter((r) => r.url.includes(victim))).toEqual([]);
  });

  it("refuses pushed paths that would leave the repository or reach other endpoints, and fetches the rest", async () => {
    const repo = `octo/sec-${crypto.randomUUID().slice(0, 8)}`;
    const hook = await link(repo);
    await publish(repo, sha("1"), "ok.ts", "export const ok = 1;\n");
    const res = await json<{ jobs: { jobId: string }[] }>(
      await deliver(hook, push(repo, sha("0"), sha("1"), ["ok.ts", "a/../../user/repos", "../x", "b\nc"])),
      202,
    );
    const job = await waitForJob(res.jobs[0]?.jobId as string);
    expect(job.status).toBe("done");
    expect(job.skipped.map((s) => s.reason).sort()).toEqual(["invalid path", "invalid path", "invalid path"]);
    expect((await hostLog()).filter((r) => r.url.includes(repo)).every((r) => r.url.startsWith(`/repos/${repo}/`))).toBe(true);
    expect((await hostLog()).some((r) => r.url.includes("/user/repos"))).toBe(false);
  });
});

describe("delivery ids", () => {
  it("are forgotten by maintenance after 7 days, and kept until then", async () => {
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO webhook_deliveries (project_id, delivery_id, received_at) VALUES ('prj_old', 'old', ?)").bind(
        now - DELIVERY_RETENTION_MS - 1,
      ),
      env.DB.prepare("INSERT INTO webhook_deliveries (project_id, delivery_id, received_at) VALUES ('prj_old', 'recent', ?)").bind(
        now - DELIVERY_RETENTION_MS + 60_000,
      ),
    ]);
    expect((await enforceRetention({ db: openDb(env.DB), bucket: env.CHUNKS }, { now })).deliveries).toBe(1);
    const left = await env.DB.prepare("SELECT delivery_id FROM webhook_deliveries WHERE project_id = 'prj_old'").all<{ delivery_id: string }>();
    expect(left.results.map((r) => r.delivery_id)).toEqual(["recent"]);
  });
});

describe("repository credentials", () => {
  it("an org that links a private repository it has no token for gets nothing from it; the owner's token is used for the owner only", async () => {
    const repo = `acme/private-${crypto.randomUUID().slice(0, 8)}`;
    const ownerToken = `github_pat_${crypto.randomUUID()}`;
    await control(`/__private/${repo}`, { token: ownerToken });
    await publish(repo, sha("1"), "secret.ts", "export const secret = 42;\n");

    const owner = await link(repo, { token: ownerToken });
    const ownerJob = await json<{ jobs: { jobId: string }[] }>(await deliver(owner, push(repo, sha("0"), sha("1"), ["secret.ts"])), 202);
    expect((await waitForJob(ownerJob.jobs[0]?.jobId as string)).status).toBe("done");
    const ownerFiles = await json<{ files: { path: string; status: string }[] }>(await api(`/api/projects/${owner.projectId}/files`), 200);
    expect(ownerFiles.files.map((f) => f.path)).toEqual(["secret.ts"]);

    const attacker = await newOrg("attacker");
    const stolen = await link(repo, {}, attacker.apiKey);
    const attackJob = await json<{ jobs: { jobId: string }[] }>(await deliver(stolen, push(repo, sha("0"), sha("1"), ["secret.ts"])), 202);
    await waitForJob(attackJob.jobs[0]?.jobId as string, attacker.apiKey);
    const attackerFiles = await json<{ files: unknown[] }>(await api(`/api/projects/${stolen.projectId}/files`, { token: attacker.apiKey }), 200);
    expect(attackerFiles.files).toEqual([]);
    const chunks = await env.DB.prepare("SELECT count(*) AS n FROM chunks WHERE project_id = ?").bind(stolen.projectId).first<{ n: number }>();
    expect(chunks?.n).toBe(0);
  });

  it("stores the token sealed and never returns it", async () => {
    const token = `github_pat_${crypto.randomUUID()}`;
    const hook = await link(`acme/app-${crypto.randomUUID().slice(0, 8)}`, { token });
    const row = await env.DB.prepare("SELECT git_token FROM projects WHERE project_id = ?").bind(hook.projectId).first<{ git_token: string }>();
    expect(row?.git_token).toMatch(/^v1\./);
    expect(row?.git_token).not.toContain(token);
    const view = await api(`/api/projects/${hook.projectId}`);
    const text = await view.text();
    expect(text).not.toContain(token);
    expect(JSON.parse(text).repository).toMatchObject({ credential: "token", webhookPath: hook.path });
  });

  it("the former shared webhook URL answers 410 and names the new one", async () => {
    const res = await api("/api/webhooks/github", { method: "POST", body: "{}", token: "" });
    expect((await json<{ error: { code: string; message: string } }>(res, 410)).error.message).toContain("/api/webhooks/github/<projectId>");
  });
});
