/** Helpers for tests that drive the Worker over HTTP, as a client would. */
import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import { type TreeFile, tarGz } from "./archives";

export const BOOTSTRAP = "test-bootstrap-token";

export async function api(path: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token !== "") headers.set("authorization", `Bearer ${init.token ?? BOOTSTRAP}`);
  // Cloudflare's ray id becomes the request id errors carry; a fixed one lets tests compare whole error bodies.
  if (!headers.has("cf-ray")) headers.set("cf-ray", "test-ray");
  return SELF.fetch(`https://winky.test${path}`, { ...init, headers });
}

export async function json<T = Record<string, unknown>>(res: Response, status: number): Promise<T> {
  const body = await res.text();
  expect(res.status, body).toBe(status);
  return JSON.parse(body) as T;
}

export async function createProject(token = BOOTSTRAP, body: Record<string, unknown> = {}): Promise<string> {
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
export async function waitForJob(jobId: string, token = BOOTSTRAP, timeoutMs = 120_000): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await json<JobView>(await api(`/api/jobs/${jobId}`, { token }), 200);
    if (job.status === "done" || job.status === "failed") return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A new project with `files` uploaded and ingested (the job must end done). */
export async function ingestTree(files: TreeFile[], body: Record<string, unknown> = {}): Promise<string> {
  const projectId = await createProject(BOOTSTRAP, body);
  const { jobId } = await json<{ jobId: string }>(
    await api(`/api/projects/${projectId}/ingest`, { method: "POST", body: await tarGz(files), headers: { "content-type": "application/gzip" } }),
    202,
  );
  expect((await waitForJob(jobId)).status).toBe("done");
  return projectId;
}
