import { env } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { hmacSha256Hex } from "../../src/lib/crypto/hash";
import { api, createProject, json, waitForJob } from "../support/api";

type Push = { ref: string; after: string; repository: { full_name: string }; commits: { added: string[]; removed: string[]; modified: string[] }[] };
const examples = inject("webhookExamples");
const pushToMaster = examples.push.find((e) => (e as Push).ref === "refs/heads/master" && (e as Push).commits.length > 0) as Push;
const tagPush = examples.push.find((e) => (e as Push).ref.startsWith("refs/tags/")) as Push;

async function publish(repo: string, ref: string, path: string, content: string): Promise<void> {
  const res = await fetch(`${env.GIT_API_BASE_URL}/__files/${repo}/${ref}/${encodeURIComponent(path)}`, { method: "PUT", body: content });
  expect(res.status).toBe(204);
}

async function deliver(path: string, payload: unknown, secret: string | null, event = "push"): Promise<Response> {
  const body = new TextEncoder().encode(JSON.stringify(payload));
  const headers: Record<string, string> = { "content-type": "application/json", "x-github-event": event };
  if (secret !== null) headers["x-hub-signature-256"] = `sha256=${await hmacSha256Hex(secret, body)}`;
  return api(path, { method: "POST", body, headers, token: "" });
}

async function linkedProject(fullName: string): Promise<{ projectId: string; secret: string; path: string }> {
  const projectId = await createProject();
  const linked = await json<{ webhookSecret: string; webhookPath: string }>(
    await api(`/api/projects/${projectId}/repository`, { method: "PUT", body: JSON.stringify({ fullName }), headers: { "content-type": "application/json" } }),
    200,
  );
  return { projectId, secret: linked.webhookSecret, path: linked.webhookPath };
}

async function paths(projectId: string): Promise<string[]> {
  return (await json<{ files: { path: string }[] }>(await api(`/api/projects/${projectId}/files`), 200)).files.map((f) => f.path);
}

describe("GitHub push webhook", () => {
  it("re-ingests exactly the pushed paths, fetched from the git host at the pushed commit", async () => {
    const repo = `codertocat/hello-${crypto.randomUUID().slice(0, 8)}`;
    const { projectId, secret, path } = await linkedProject(repo);
    const payload = { ...pushToMaster, repository: { ...pushToMaster.repository, full_name: repo } };
    expect(pushToMaster.commits[0]?.added).toEqual(["README.md"]);
    await publish(repo, payload.after, "README.md", "# Hello World\n\nPushed content.\n");

    const res = await json<{ jobs: { projectId: string; jobId: string }[] }>(await deliver(path, payload, secret), 202);
    expect(res.jobs).toEqual([{ projectId, jobId: expect.any(String) }]);
    const job = await waitForJob(res.jobs[0]?.jobId as string);
    expect(job).toMatchObject({ status: "done", files: { total: 1, done: 1 } });
    expect(await paths(projectId)).toEqual(["README.md"]);

    // A later push modifies one file, adds another and removes README.md.
    const after = "b".repeat(40);
    await publish(repo, after, "src/app.ts", "export const app = 1;\n");
    const second = {
      ...payload,
      before: payload.after,
      after,
      commits: [
        { id: "c1", added: ["src/app.ts", "docs/temp.md"], removed: [], modified: [] },
        { id: "c2", added: [], removed: ["README.md", "docs/temp.md"], modified: [] },
      ],
    };
    const job2 = await waitForJob((await json<{ jobs: { jobId: string }[] }>(await deliver(path, second, secret), 202)).jobs[0]?.jobId as string);
    expect(job2).toMatchObject({ status: "done", files: { total: 3, removed: 2 } });
    expect(await paths(projectId)).toEqual(["src/app.ts"]);
  });

  it("rejects a missing or wrong signature with 401 and starts nothing", async () => {
    const repo = `codertocat/hello-${crypto.randomUUID().slice(0, 8)}`;
    const { projectId, path } = await linkedProject(repo);
    const payload = { ...pushToMaster, repository: { ...pushToMaster.repository, full_name: repo } };
    expect((await json<{ error: { code: string } }>(await deliver(path, payload, null), 401)).error.code).toBe("bad_signature");
    expect((await json<{ error: { code: string } }>(await deliver(path, payload, "not-the-secret"), 401)).error.code).toBe("bad_signature");
    const jobs = await env.DB.prepare("SELECT count(*) AS n FROM ingest_jobs WHERE project_id = ?").bind(projectId).first<{ n: number }>();
    expect(jobs?.n).toBe(0);
  });

  it("answers ping, and ignores tag pushes and other branches", async () => {
    const repo = `codertocat/hello-${crypto.randomUUID().slice(0, 8)}`;
    const { secret, path } = await linkedProject(repo);
    const ping = { ...(examples.ping[0] as Record<string, unknown>), repository: { full_name: repo } };
    expect(await json(await deliver(path, ping, secret, "ping"), 200)).toEqual({ ok: true, event: "ping" });
    const tag = { ...tagPush, repository: { ...tagPush.repository, full_name: repo } };
    const res = await json<{ jobs: unknown[]; skipped: { reason: string }[] }>(await deliver(path, tag, secret), 200);
    expect(res.jobs).toEqual([]);
    expect(res.skipped[0]?.reason).toContain("refs/tags/simple-tag");
  });

  it("rejects a signed payload that is not a push event's shape with 400", async () => {
    const repo = `codertocat/hello-${crypto.randomUUID().slice(0, 8)}`;
    const { secret, path } = await linkedProject(repo);
    const res = await json<{ error: { code: string; issues: unknown[] } }>(await deliver(path, { repository: { full_name: repo }, ref: 42 }, secret), 400);
    expect(res.error.code).toBe("invalid_request");
    expect(res.error.issues.length).toBeGreaterThan(0);
  });
});
