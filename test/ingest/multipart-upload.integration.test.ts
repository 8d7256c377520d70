import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { writeTar } from "../../src/lib/archive";
import { api, createProject, json, newOrg, waitForJob } from "../support/api";
import { zip } from "../support/archives";

const MiB = 1024 * 1024;
const enc = new TextEncoder();
const post = (path: string, body: unknown, token?: string) =>
  api(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" }, ...(token ? { token } : {}) });

/** A plain tar of about 7 MiB of source text: two parts at R2's 5 MiB minimum part size. */
function bigTar(): Uint8Array {
  const files = Array.from({ length: 9 }, (_, i) => ({
    path: `src/module${i}.ts`,
    bytes: enc.encode(Array.from({ length: 20_000 }, (_, j) => `export const value${i}_${j} = ${j};\n`).join("")),
  }));
  return writeTar(files);
}

async function putPart(projectId: string, uploadId: string, n: number, body: Uint8Array) {
  return api(`/api/projects/${projectId}/uploads/${uploadId}/parts/${n}`, { method: "PUT", body });
}

describe("large uploads through an R2 multipart upload", () => {
  it("starts, takes parts, completes into the job pipeline, and leaves no upload object behind", async () => {
    const projectId = await createProject();
    const tar = bigTar();
    expect(tar.byteLength).toBeGreaterThan(5 * MiB);
    const started = await json<{ uploadId: string; partBytes: number }>(await post(`/api/projects/${projectId}/uploads`, { format: "tar" }), 201);
    const parts = [];
    for (const [i, at] of [0, 5 * MiB].entries()) {
      parts.push(
        await json<{ partNumber: number; etag: string }>(
          await putPart(projectId, started.uploadId, i + 1, tar.subarray(at, i === 0 ? 5 * MiB : undefined)),
          200,
        ),
      );
    }
    const done = await json<{ jobId: string; files: number }>(await post(`/api/projects/${projectId}/uploads/${started.uploadId}/complete`, { parts }), 202);
    expect(done.files).toBe(9);
    const job = await waitForJob(done.jobId);
    expect(job).toMatchObject({ status: "done", files: { total: 9, done: 9 } });
    expect(job.outcomes.text).toBe(9);
    // Completing again answers the same job; nothing is staged twice.
    const again = await json<{ jobId: string }>(await post(`/api/projects/${projectId}/uploads/${started.uploadId}/complete`, { parts }), 200);
    expect(again.jobId).toBe(done.jobId);
    expect((await env.CHUNKS.list({ prefix: `uploads/${projectId}/` })).objects).toEqual([]);
    const row = await env.DB.prepare("SELECT status, bytes FROM uploads WHERE upload_id = ?").bind(started.uploadId).first();
    expect(row).toEqual({ status: "completed", bytes: tar.byteLength });
  });

  it("reads a zip from R2 with range reads, for a multipart upload and for a direct body alike", async () => {
    const projectId = await createProject();
    const body = await zip([
      { path: "main.py", content: "def main():\n    return 1\n" },
      { path: "pkg/util.py", content: "def helper():\n    return 2\n" },
    ]);
    const started = await json<{ uploadId: string }>(await post(`/api/projects/${projectId}/uploads`, { format: "zip" }), 201);
    const part = await json<{ partNumber: number; etag: string }>(await putPart(projectId, started.uploadId, 1, body), 200);
    const done = await json<{ jobId: string }>(await post(`/api/projects/${projectId}/uploads/${started.uploadId}/complete`, { parts: [part] }), 202);
    expect(await waitForJob(done.jobId)).toMatchObject({ status: "done", files: { total: 2 } });

    const direct = await api(`/api/projects/${projectId}/ingest`, { method: "POST", body, headers: { "content-type": "application/zip" } });
    expect(await waitForJob((await json<{ jobId: string }>(direct, 202)).jobId)).toMatchObject({ status: "done", files: { unchanged: 2 } });
    expect((await env.CHUNKS.list({ prefix: `uploads/${projectId}/` })).objects).toEqual([]);
  });

  it("refuses a bad archive whole at completion and changes nothing stored", async () => {
    const projectId = await createProject();
    const started = await json<{ uploadId: string }>(await post(`/api/projects/${projectId}/uploads`, { format: "tar.gz" }), 201);
    const part = await json<{ partNumber: number; etag: string }>(await putPart(projectId, started.uploadId, 1, enc.encode("not gzip at all")), 200);
    const res = await post(`/api/projects/${projectId}/uploads/${started.uploadId}/complete`, { parts: [part] });
    expect((await json<{ error: { code: string } }>(res, 400)).error.code).toBe("corrupt_archive");
    expect((await env.CHUNKS.list({ prefix: `uploads/${projectId}/` })).objects).toEqual([]);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM ingest_jobs WHERE project_id = ?").bind(projectId).first()).toEqual({ n: 0 });
    // A closed upload takes no more parts.
    expect((await json<{ error: { code: string } }>(await putPart(projectId, started.uploadId, 2, enc.encode("x")), 409)).error.code).toBe("upload_closed");
  });

  it("validates its input and is scoped to the project's org", async () => {
    const projectId = await createProject();
    expect((await json<{ error: { code: string } }>(await post(`/api/projects/${projectId}/uploads`, { format: "rar" }), 400)).error.code).toBe(
      "invalid_request",
    );
    const started = await json<{ uploadId: string }>(await post(`/api/projects/${projectId}/uploads`, { format: "tar" }), 201);
    expect((await putPart(projectId, started.uploadId, 0, enc.encode("x"))).status).toBe(400);
    expect((await post(`/api/projects/${projectId}/uploads/${started.uploadId}/complete`, { parts: [] })).status).toBe(400);

    const other = await newOrg("intruder");
    const foreign = await api(`/api/projects/${projectId}/uploads/${started.uploadId}/parts/1`, { method: "PUT", body: enc.encode("x"), token: other.apiKey });
    expect(foreign.status).toBe(404);
    const foreignProject = await createProject(other.apiKey);
    // Another project's upload id does not reach this upload, even for its owner's org.
    expect((await api(`/api/projects/${foreignProject}/uploads/${started.uploadId}`, { method: "DELETE", token: other.apiKey })).status).toBe(404);

    expect((await api(`/api/projects/${projectId}/uploads/${started.uploadId}`, { method: "DELETE" })).status).toBe(204);
    expect(await env.DB.prepare("SELECT status FROM uploads WHERE upload_id = ?").bind(started.uploadId).first()).toEqual({ status: "aborted" });
  });
});
