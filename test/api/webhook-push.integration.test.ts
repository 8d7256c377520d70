import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hmacSha256Hex } from "../../src/lib/crypto/hash";
import { api, createProject, json, waitForJob } from "../support/api";

type HostRequest = { method: string; url: string; status: number };
const sha = (c: string): string => c.repeat(40);

async function publish(repo: string, ref: string, path: string, content: string): Promise<void> {
  const res = await fetch(`${env.GIT_API_BASE_URL}/__files/${repo}/${ref}/${encodeURIComponent(path)}`, { method: "PUT", body: content });
  expect(res.status).toBe(204);
}

async function control(path: string, body: unknown): Promise<void> {
  expect((await fetch(`${env.GIT_API_BASE_URL}${path}`, { method: "PUT", body: JSON.stringify(body) })).status).toBe(204);
}

async function hostLog(): Promise<HostRequest[]> {
  return (await fetch(`${env.GIT_API_BASE_URL}/__log`)).json();
}

/** A project's webhook: its URL and secret. */
type Hook = { path: string; secret: string };

async function deliver(payload: unknown, hook: Hook): Promise<Response> {
  const body = new TextEncoder().encode(JSON.stringify(payload));
  const headers = { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": `sha256=${await hmacSha256Hex(hook.secret, body)}` };
  return api(hook.path, { method: "POST", body, headers, token: "" });
}

async function linkedProject(): Promise<{ repo: string; projectId: string; hook: Hook }> {
  const repo = `octo/push-${crypto.randomUUID().slice(0, 8)}`;
  const projectId = await createProject();
  const linked = await json<{ webhookSecret: string; webhookPath: string }>(
    await api(`/api/projects/${projectId}/repository`, {
      method: "PUT",
      body: JSON.stringify({ fullName: repo }),
      headers: { "content-type": "application/json" },
    }),
    200,
  );
  return { repo, projectId, hook: { path: linked.webhookPath, secret: linked.webhookSecret } };
}

function push(repo: string, before: string, after: string, commits: { id: string; added?: string[]; removed?: string[]; modified?: string[] }[], extra = {}) {
  return { ref: "refs/heads/main", before, after, repository: { full_name: repo, default_branch: "main" }, commits, ...extra };
}

async function pushed(payload: unknown, hook: Hook) {
  const res = await json<{ jobs: { jobId: string }[] }>(await deliver(payload, hook), 202);
  const jobId = res.jobs[0]?.jobId as string;
  return { jobId, job: await waitForJob(jobId) };
}

async function paths(projectId: string): Promise<string[]> {
  return (await json<{ files: { path: string }[] }>(await api(`/api/projects/${projectId}/files`), 200)).files.map((f) => f.path).sort();
}

describe("push webhook: pushes are ingested like uploads", () => {
  it("indexes the normal files, skips ignored ones without fetching them, and lists refused paths with reasons", async () => {
    const { repo, projectId, hook } = await linkedProject();
    const after = sha("a");
    await publish(repo, after, ".gitignore", "generated/\n");
    await publish(repo, after, "lib/.gitignore", "local.ts\n");
    await publish(repo, after, "src/app.ts", "export const quokkaMarmalade = 'pushed content';\n");
    await publish(repo, after, "lib/keep.ts", "export const keep = 1;\n");
    for (const p of ["generated/out.js", "lib/local.ts", "node_modules/x.js"]) await publish(repo, after, p, "must not be read\n");
    const tooLong = `deep/${"x".repeat(4100)}.ts`;
    const added = [
      "src/app.ts",
      "lib/keep.ts",
      "node_modules/x.js",
      "generated/out.js",
      "lib/local.ts",
      "a/../../etc/passwd",
      "evil\nname.ts",
      "/abs.ts",
      tooLong,
    ];

    const { jobId, job } = await pushed(push(repo, sha("0"), after, [{ id: "c1", added }]), hook);
    expect(job).toMatchObject({
      status: "done",
      files: { total: 4, done: 2, ignored: 3 },
      outcomes: { text: 2, skipped: { ignored: 3, "invalid path": 3, "path too long": 1 } },
    });
    expect(await paths(projectId)).toEqual(["lib/keep.ts", "src/app.ts"]);
    expect(job.skipped).toEqual(
      expect.arrayContaining([
        { path: "a/../../etc/passwd", reason: "invalid path", detail: expect.any(String) },
        { path: "evil\ufffdname.ts", reason: "invalid path", detail: "the path contains a control character" },
        { path: "/abs.ts", reason: "invalid path", detail: expect.any(String) },
        { path: expect.stringMatching(/^deep\/x+…$/), reason: "path too long", detail: "longer than 4096 bytes" },
        { path: "node_modules/x.js", reason: "ignored", detail: "default ignore list" },
        { path: "generated/out.js", reason: "ignored", detail: ".gitignore" },
        { path: "lib/local.ts", reason: "ignored", detail: ".gitignore" },
      ]),
    );
    const row = await env.DB.prepare("SELECT skipped_sample FROM ingest_jobs WHERE job_id = ?").bind(jobId).first<{ skipped_sample: string }>();
    expect(JSON.parse(row?.skipped_sample ?? "[]")).toHaveLength(5);

    // The pushed files are searchable.
    const assembled = await json<{ contextPieces: { sourcePath: string }[] }>(
      await api("/api/context/assemble", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ projectId, prompt: "quokkaMarmalade", budget: 8000 }),
      }),
      200,
    );
    expect(assembled.contextPieces.map((p) => p.sourcePath)).toContain("src/app.ts");

    // Only the .gitignore files that can apply and the kept files were read, all through the contents endpoint;
    // the ignored directory's own .gitignore was not read either.
    const log = await hostLog();
    const mine = log.filter((r) => r.url.includes(repo)).map((r) => decodeURIComponent(new URL(r.url, "http://h").pathname));
    expect(mine.sort()).toEqual(
      [".gitignore", "lib/.gitignore", "lib/keep.ts", "src/.gitignore", "src/app.ts"].map((p) => `/repos/${repo}/contents/${p}`).sort(),
    );
    for (const r of log) expect(r.url).toMatch(/^\/repos\/[\w.-]+\/[\w.-]+\/(contents|compare)\//);
    expect(log.some((r) => r.url.includes("passwd") || r.url.includes("abs.ts"))).toBe(false);
  });

  it("lists the changed files through the compare API, paged, when the payload's commit list is cut", async () => {
    const { repo, projectId, hook } = await linkedProject();
    const first = sha("1");
    for (const p of ["old.ts", "old-name.ts", "stays.ts"]) await publish(repo, first, p, `export const v = "${p}";\n`);
    expect((await pushed(push(repo, sha("0"), first, [{ id: "c0", added: ["old.ts", "old-name.ts", "stays.ts"] }]), hook)).job.status).toBe("done");

    const second = sha("2");
    const added = Array.from({ length: 101 }, (_, i) => `pkg/f${i}.ts`);
    for (const p of [...added, "new-name.ts"]) await publish(repo, second, p, `export const v = "${p}";\n`);
    await control(`/__compare/${repo}/${first}/${second}`, {
      files: [
        ...added.map((filename) => ({ filename, status: "added" })),
        { filename: "old.ts", status: "removed" },
        { filename: "new-name.ts", status: "renamed", previous_filename: "old-name.ts" },
      ],
    });
    // GitHub lists at most 2048 commits; these name one file, and the comparison has the rest.
    const commits = Array.from({ length: 2048 }, (_, i) => ({ id: `c${i}`, added: i === 0 ? ["pkg/f0.ts"] : [] }));
    const { job } = await pushed(push(repo, first, second, commits), hook);
    expect(job).toMatchObject({ status: "done", files: { total: 104, done: 102, removed: 2 } });
    expect(await paths(projectId)).toEqual([...added, "new-name.ts", "stays.ts"].sort());
    const compares = (await hostLog()).filter((r) => r.url.includes(`/repos/${repo}/compare/`)).map((r) => new URL(r.url, "http://h").searchParams);
    // First the order of the indexed commit and the pushed one (one file's worth), then the files, paged.
    expect(compares.map((q) => [q.get("per_page"), q.get("page")])).toEqual([
      ["1", "1"],
      ["100", "1"],
      ["100", "2"],
    ]);
  });

  it("retries a message the git host rate-limits after the wait it asks for, and the job still ends done", async () => {
    const { repo, projectId, hook } = await linkedProject();
    const after = sha("b");
    await publish(repo, after, "src/limited.ts", "export const limited = true;\n");
    await control(`/__limit/${repo}`, { count: 2, status: 429, headers: { "retry-after": "1" } });
    const started = Date.now();
    const { jobId, job } = await pushed(push(repo, sha("0"), after, [{ id: "c1", added: ["src/limited.ts"] }]), hook);
    expect(job).toMatchObject({ status: "done", files: { done: 1 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(await paths(projectId)).toEqual(["src/limited.ts"]);
    const batch = await env.DB.prepare("SELECT attempts, last_error FROM job_batches WHERE job_id = ?")
      .bind(jobId)
      .first<{ attempts: number; last_error: string }>();
    expect(batch?.attempts).toBe(2);
    expect(batch?.last_error).toContain("rate-limited");
    const statuses = (await hostLog()).filter((r) => r.url.includes(repo)).map((r) => r.status);
    expect(statuses.slice(0, 2)).toEqual([429, 429]);
  });

  it("refuses a payload over GitHub's 25 MB cap with 413 before reading it whole", async () => {
    const { hook } = await linkedProject();
    const res = await api(hook.path, {
      method: "POST",
      body: new Uint8Array(25 * 1024 * 1024 + 1),
      headers: { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": "sha256=00" },
      token: "",
    });
    expect((await json<{ error: { code: string } }>(res, 413)).error.code).toBe("payload_too_large");
  });

  it("answers 503 with the host's retry-after when the comparison is rate-limited, and starts nothing", async () => {
    const { repo, projectId, hook } = await linkedProject();
    await control(`/__limit/${repo}`, { count: 1, status: 429, headers: { "retry-after": "120" } });
    const res = await deliver(push(repo, sha("3"), sha("4"), [{ id: "c1", added: ["a.ts"] }], { forced: true }), hook);
    expect(res.headers.get("retry-after")).toBe("120");
    expect((await json<{ error: { code: string } }>(res, 503)).error.code).toBe("git_host_unavailable");
    const jobs = await env.DB.prepare("SELECT count(*) AS n FROM ingest_jobs WHERE project_id = ?").bind(projectId).first<{ n: number }>();
    expect(jobs?.n).toBe(0);
  });
});
