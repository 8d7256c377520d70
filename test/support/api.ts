/** Helpers for tests that drive the Worker over HTTP, as a client would. */
import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import { type TreeFile, tarGz } from "./archives";

import { TEST_ADMIN_KEY } from "./test-org";

/** The operator's bootstrap token: it creates orgs and nothing else. */
export const BOOTSTRAP = "test-bootstrap-token";
/** The admin key (every scope) of the org test/setup seeds; requests use it unless they name another token. */
export const ADMIN = TEST_ADMIN_KEY;

export async function api(path: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token !== "") headers.set("authorization", `Bearer ${init.token ?? ADMIN}`);
  // Cloudflare's ray id becomes the request id errors carry; a fixed one lets tests compare whole error bodies.
  if (!headers.has("cf-ray")) headers.set("cf-ray", "test-ray");
  return SELF.fetch(`https://winky.test${path}`, { ...init, headers });
}

/** A new org made with the bootstrap token, and its first (admin) key. */
export async function newOrg(name = "other"): Promise<{ orgId: string; keyId: string; apiKey: string }> {
  const res = await api("/api/orgs", { method: "POST", token: BOOTSTRAP, body: JSON.stringify({ name }), headers: { "content-type": "application/json" } });
  return json(res, 201);
}

export async function json<T = Record<string, unknown>>(res: Response, status: number): Promise<T> {
  const body = await res.text();
  expect(res.status, body).toBe(status);
  return JSON.parse(body) as T;
}

export async function createProject(token = ADMIN, body: Record<string, unknown> = {}): Promise<string> {
  const res = await api("/api/projects", {
    method: "POST",
    token,
    body: JSON.stringify({ name: "p", ...body }),
    headers: { "content-type": "application/json" },
  });
  return (await json<{ projectId: string }>(res, 201)).projectId;
}

export type JobView = {
  status: string;
  files: { total: number; done: number; skipped: number; unchanged: number; ignored: number; removed: number };
  outcomes: { text: number; decoded: number; binary: number; link: number; skipped: Record<string, number> };
  skipped: { path: string; reason: string; detail?: string }[];
  chunks: number;
  chunksWritten: number;
  tokens: number;
  errors: { path?: string; message: string }[];
  finishedAt: string | null;
};

/** Polls the job until it finishes (the local queue delivers batches within about a second). */
export async function waitForJob(jobId: string, token = ADMIN, timeoutMs = 120_000): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await json<JobView>(await api(`/api/jobs/${jobId}`, { token }), 200);
    if (job.status === "done" || job.status === "failed") return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A new project with `files` uploaded and ingested (the job must end done), in the org of `token`. */
export async function ingestTree(files: TreeFile[], body: Record<string, unknown> = {}, token = ADMIN): Promise<string> {
  const projectId = await createProject(token, body);
  const { jobId } = await json<{ jobId: string }>(
    await api(`/api/projects/${projectId}/ingest`, { method: "POST", token, body: await tarGz(files), headers: { "content-type": "application/gzip" } }),
    202,
  );
  expect((await waitForJob(jobId, token)).status).toBe("done");
  return projectId;
}
