/**
 * Binary files' bytes are kept in R2, content-addressed under the project's prefix: written once per content,
 * never again for an unchanged tree, kept while a file row or a sandbox snapshot names them, collected after,
 * removed with the project, and never served by any route.
 */
import { env, SELF } from "cloudflare:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { describe, expect, it } from "vitest";
import { collectGarbage } from "../../src/lib/retention";
import { dropSnapshotIfUnused, takeSnapshot } from "../../src/lib/sandbox/snapshot";
import { blobKey, MAX_BLOB_BYTES, openDb } from "../../src/lib/storage";
import { ADMIN, api, createProject, json, newOrg, waitForJob } from "../support/api";
import { type TreeFile, tarGz } from "../support/archives";

const db = openDb(env.DB);
const bucket = env.CHUNKS;
const HOUR = 60 * 60 * 1000;

type FileView = { path: string; status: string; binary: boolean; sizeBytes: number; skipReason: string | null; skipDetail: string | null; chunkIds: string[] };

// Every byte value, NULs first: binary however it is sniffed.
const fixture = new Uint8Array(Array.from({ length: 3000 }, (_, i) => i % 256));

async function sha(bytes: Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function ingest(projectId: string, files: TreeFile[], token?: string) {
  const { jobId } = await json<{ jobId: string }>(
    await api(`/api/projects/${projectId}/ingest`, {
      method: "POST",
      body: await tarGz(files),
      headers: { "content-type": "application/gzip" },
      ...(token ? { token } : {}),
    }),
    202,
  );
  const job = await waitForJob(jobId, token);
  expect(job.status).toBe("done");
  return job;
}

/** Every object under the project's prefix, with when it was written. */
async function objects(projectId: string): Promise<string[]> {
  const listed = await bucket.list({ prefix: `projects/${projectId}/` });
  return listed.objects.map((o) => `${o.key}@${o.uploaded.getTime()}`).sort();
}

async function gc(projectId: string, now: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const r = await collectGarbage({ db, bucket }, { now, projectId });
    deleted += r.deleted;
    if (r.done) return deleted;
  }
}

const exists = async (key: string): Promise<boolean> => (await bucket.head(key)) !== null;

describe("binary files' bytes in R2", () => {
  it("stores one blob per content, writes nothing for an unchanged tree, and lists a too-large binary as skipped with its reason", async () => {
    const projectId = await createProject();
    const big = new Uint8Array(MAX_BLOB_BYTES + 1);
    const job = await ingest(projectId, [
      { path: "fixtures/a.bin", content: fixture },
      { path: "fixtures/copy.bin", content: fixture },
      { path: "fixtures/big.bin", content: big },
      { path: "src/app.js", content: "module.exports = 1;\n" },
    ]);
    expect(job.outcomes).toMatchObject({ text: 1, binary: 2, skipped: { "too large": 1 } });
    expect(job.skipped).toEqual([
      { path: "fixtures/big.bin", reason: "too large", detail: expect.stringContaining(`${MAX_BLOB_BYTES}-byte limit for binary files`) },
    ]);
    const key = blobKey(projectId, await sha(fixture));
    const blobs = await bucket.list({ prefix: `projects/${projectId}/blobs/` });
    expect(blobs.objects.map((o) => o.key)).toEqual([key]);
    expect(new Uint8Array(await ((await bucket.get(key))?.arrayBuffer() ?? new ArrayBuffer(0)))).toEqual(fixture);

    const listed = await json<{ files: FileView[] }>(await api(`/api/projects/${projectId}/files`), 200);
    const byPath = new Map(listed.files.map((f) => [f.path, f]));
    expect(byPath.get("fixtures/a.bin")).toMatchObject({ status: "binary", binary: true, sizeBytes: 3000, chunkIds: [] });
    expect(byPath.get("fixtures/big.bin")).toMatchObject({
      status: "skipped",
      skipReason: "too large",
      skipDetail: expect.stringContaining(`${MAX_BLOB_BYTES + 1} bytes`),
    });

    const before = await objects(projectId);
    const again = await ingest(projectId, [
      { path: "fixtures/a.bin", content: fixture },
      { path: "fixtures/copy.bin", content: fixture },
      { path: "fixtures/big.bin", content: big },
      { path: "src/app.js", content: "module.exports = 1;\n" },
    ]);
    // big.bin's bytes were never read (past every limit), so it has no hash to compare: it is staged again, as before.
    expect(again.files.unchanged).toBe(3);
    expect(await objects(projectId)).toEqual(before);
  });

  it("keeps a blob while a file or a sandbox snapshot names it, collects it after, and leaves none behind a deleted project", async () => {
    const projectId = await createProject();
    await ingest(projectId, [
      { path: "a.bin", content: fixture },
      { path: "b.bin", content: fixture },
    ]);
    const key = blobKey(projectId, await sha(fixture));
    const later = Date.now() + 2 * HOUR;

    // a.bin leaves the tree; b.bin (same bytes) still names the blob.
    await ingest(projectId, [{ path: "b.bin", content: fixture }]);
    expect(await gc(projectId, later)).toBe(0);
    expect(await exists(key)).toBe(true);

    // b.bin leaves too, but a sandbox snapshot taken before still names it: a replay needs the bytes.
    const snapshotId = `snap_${crypto.randomUUID()}`;
    await takeSnapshot(db, projectId, snapshotId);
    await ingest(projectId, [{ path: "readme.md", content: "no binaries now\n" }]);
    expect(await gc(projectId, later)).toBe(0);
    expect(await exists(key)).toBe(true);

    // Nothing names it any more: garbage once past the grace period.
    await dropSnapshotIfUnused(db, snapshotId);
    expect(await gc(projectId, Date.now())).toBe(0);
    expect(await gc(projectId, later)).toBe(1);
    expect(await exists(key)).toBe(false);

    // A blob still named when the project is deleted goes with it.
    await ingest(projectId, [{ path: "c.bin", content: fixture }]);
    expect(await exists(key)).toBe(true);
    const deletion = await json<{ jobId: string }>(await api(`/api/projects/${projectId}`, { method: "DELETE" }), 202);
    expect((await waitForJob(deletion.jobId)).status).toBe("done");
    expect((await bucket.list({ prefix: `projects/${projectId}/` })).objects).toEqual([]);
  });

  it("serves no binary bytes through any route, and another org cannot even list the file", async () => {
    const projectId = await createProject();
    await ingest(projectId, [{ path: "data/blob.bin", content: fixture }]);
    const other = await newOrg("binary-outsider");
    for (const path of [`/api/projects/${projectId}/files`, `/api/projects/${projectId}/files?status=binary`, `/api/projects/${projectId}`])
      expect((await api(path, { token: other.apiKey })).status).toBe(404);
    // The owner sees metadata only: no chunk to read, and the listing carries no bytes and no storage key.
    const res = await api(`/api/projects/${projectId}/files?status=binary`);
    const body = await res.text();
    expect(res.status).toBe(200);
    const files = (JSON.parse(body) as { files: FileView[] }).files;
    expect(files).toMatchObject([{ path: "data/blob.bin", status: "binary", chunkIds: [] }]);
    expect(body).not.toContain("/blobs/");
    // read_file reads the project's indexed text: a binary file has none, so no byte of it comes back as text.
    const client = new Client({ name: "winky-test", version: "1.0.0" }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
    await client.connect(
      new StreamableHTTPClientTransport(new URL("https://winky.test/mcp"), {
        fetch: (url, init) => SELF.fetch(url, init),
        requestInit: { headers: { authorization: `Bearer ${ADMIN}` } },
      }),
    );
    try {
      const read = (await client.callTool({ name: "read_file", arguments: { projectId, path: "data/blob.bin" } })) as CallToolResult;
      const text = read.content.map((c) => (c.type === "text" ? c.text : "")).join("");
      expect(text).not.toContain("\u0001\u0002\u0003\u0004");
      expect(JSON.stringify(read.structuredContent ?? {})).not.toContain("\\u0001\\u0002\\u0003");
    } finally {
      await client.close();
    }
  });
});
