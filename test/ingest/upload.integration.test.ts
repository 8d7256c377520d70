import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN, api, createProject, json, newOrg, waitForJob } from "../support/api";
import { concat, gzip, type TreeFile, tarGz, tarHeader, zip } from "../support/archives";

type FileView = {
  path: string;
  sha256: string;
  tokenCount: number;
  binary: boolean;
  type: string;
  status: string;
  encoding: string | null;
  linkTarget: string | null;
  skipReason: string | null;
  skipDetail: string | null;
  chunkIds: string[];
};
type ChunkView = {
  encoding: string | null;
  chunkId: string;
  path: string;
  startLine: number;
  endLine: number;
  tokenCount: number;
  sha256: string;
  text: string;
  type: string;
};

async function upload(projectId: string, body: Uint8Array, contentType = "application/gzip", token = ADMIN): Promise<Response> {
  return api(`/api/projects/${projectId}/ingest`, { method: "POST", token, body, headers: { "content-type": contentType } });
}

async function ingest(projectId: string, files: TreeFile[]) {
  const { jobId } = await json<{ jobId: string }>(await upload(projectId, await tarGz(files)), 202);
  return waitForJob(jobId);
}

async function listFiles(projectId: string, token = ADMIN): Promise<FileView[]> {
  return (await json<{ files: FileView[] }>(await api(`/api/projects/${projectId}/files`, { token }), 200)).files;
}

async function countRows(table: string, projectId: string): Promise<number> {
  const r = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE project_id = ?`).bind(projectId).first<{ n: number }>();
  return r?.n ?? 0;
}

/** The project's objects in R2 of one kind: chunk text, or binary files' bytes. */
async function r2Objects(projectId: string, kind: "chunks" | "blobs" = "chunks"): Promise<number> {
  return (await env.CHUNKS.list({ prefix: `projects/${projectId}/${kind}/` })).objects.length;
}

const big = (name: string, n: number): string =>
  Array.from({ length: n }, (_, i) => `export function ${name}${i}(x: number): number {\n  return x * ${i};\n}\n`).join("\n");

const tree: TreeFile[] = [
  { path: "src/index.ts", content: "import { add } from './math';\nexport const main = () => add(1, 2);\n" },
  { path: "src/math.ts", content: big("add", 400) },
  { path: "README.md", content: "\uFEFF# Demo\r\n\r\nA small project.\r\n" },
  { path: "assets/logo.png", content: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]) },
  { path: "node_modules/dep/index.js", content: "module.exports = 1;\n" },
  { path: ".gitignore", content: "generated/\n*.log\n" },
  { path: "generated/out.ts", content: "export const generated = true;\n" },
  { path: "debug.log", content: "noise\n" },
  { path: "config/app.json", content: '{ "port": 8787 }\n' },
];

describe("ingesting an uploaded tree", () => {
  it("chunks, fingerprints and stores every file, honouring ignore rules", async () => {
    const projectId = await createProject(ADMIN, { tokenizer: "cl100k_base", chunkTokens: 1000, overlapTokens: 128 });
    const job = await ingest(projectId, tree);
    expect(job.status).toBe("done");
    expect(job.files).toMatchObject({ total: 6, done: 6, skipped: 0, ignored: 3 });
    expect(job.errors).toEqual([]);

    const files = await listFiles(projectId);
    expect(files.map((f) => f.path)).toEqual([".gitignore", "README.md", "assets/logo.png", "config/app.json", "src/index.ts", "src/math.ts"]);
    const logo = files.find((f) => f.path === "assets/logo.png");
    expect(logo).toMatchObject({ binary: true, tokenCount: 0, chunkIds: [] });
    const math = files.find((f) => f.path === "src/math.ts") as FileView;
    expect(math.chunkIds.length).toBeGreaterThan(5);
    expect(files.find((f) => f.path === "config/app.json")?.type).toBe("config");

    let tokens = 0;
    for (const f of files) tokens += f.tokenCount;
    expect(job.tokens).toBe(tokens);
    expect(job.chunks).toBe(files.reduce((n, f) => n + f.chunkIds.length, 0));

    const readme = await json<ChunkView>(await api(`/api/chunks/${files.find((f) => f.path === "README.md")?.chunkIds[0]}`), 200);
    expect(readme.text).toBe("# Demo\n\nA small project.\n");
    expect(readme).toMatchObject({ path: "README.md", startLine: 1, endLine: 3, type: "doc" });

    // Chunks of a file rebuild it, and each respects the project's limit.
    let rebuilt = "";
    let end = 0;
    for (const id of math.chunkIds) {
      const c = await json<ChunkView & { byteOffset: number; byteLength: number }>(await api(`/api/chunks/${id}`), 200);
      expect(c.tokenCount).toBeLessThanOrEqual(1000);
      rebuilt += c.text.slice(end - c.byteOffset);
      end = c.byteOffset + c.byteLength;
    }
    expect(rebuilt).toBe(tree[1]?.content);
  });

  it("re-ingesting an unchanged tree writes nothing; a change rewrites only its file; a removal leaves the index", async () => {
    const projectId = await createProject();
    const first = await ingest(projectId, tree);
    const chunksBefore = await countRows("chunks", projectId);
    const objectsBefore = await r2Objects(projectId);
    expect(first.chunksWritten).toBe(objectsBefore);
    // assets/logo.png's bytes, kept for sandbox runs.
    expect(await r2Objects(projectId, "blobs")).toBe(1);

    const again = await ingest(projectId, tree);
    expect(again).toMatchObject({ status: "done", chunksWritten: 0, chunks: 0 });
    expect(again.files).toMatchObject({ total: 6, unchanged: 6, done: 6 });
    expect(await countRows("chunks", projectId)).toBe(chunksBefore);
    expect(await r2Objects(projectId)).toBe(objectsBefore);
    expect(await r2Objects(projectId, "blobs")).toBe(1);

    const changed = tree
      .filter((f) => f.path !== "config/app.json")
      .map((f) => (f.path === "src/index.ts" ? { ...f, content: "export const main = () => 3;\n" } : f));
    const third = await ingest(projectId, changed);
    expect(third.status).toBe("done");
    expect(third.files).toMatchObject({ total: 5, unchanged: 4, removed: 1 });
    expect(third.chunksWritten).toBe(1);
    const files = await listFiles(projectId);
    expect(files.map((f) => f.path)).not.toContain("config/app.json");
    const index = files.find((f) => f.path === "src/index.ts") as FileView;
    const chunk = await json<ChunkView>(await api(`/api/chunks/${index.chunkIds[0]}`), 200);
    expect(chunk.text).toBe("export const main = () => 3;\n");
  });

  it("reuses the stored object for a chunk whose sha256 the project already holds", async () => {
    const projectId = await createProject();
    const job = await ingest(projectId, [
      { path: "a/util.ts", content: "export const same = 1;\n" },
      { path: "b/util.ts", content: "export const same = 1;\n" },
    ]);
    expect(job.chunks).toBe(2);
    expect(job.chunksWritten).toBe(1);
    const copy = await ingest(projectId, [
      { path: "a/util.ts", content: "export const same = 1;\n" },
      { path: "b/util.ts", content: "export const same = 1;\n" },
      { path: "c/util.ts", content: "export const same = 1;\n" },
    ]);
    expect(copy).toMatchObject({ chunks: 1, chunksWritten: 0 });
    expect(await r2Objects(projectId)).toBe(1);
  });

  it("accepts zip uploads and records oversized files with a reason", async () => {
    const projectId = await createProject(ADMIN, { maxFileBytes: 2048 });
    const body = await zip([
      { path: "main.py", content: "def main():\n    return 1\n" },
      { path: "data/huge.sql", content: "INSERT INTO t VALUES (1);\n".repeat(200) },
    ]);
    const { jobId } = await json<{ jobId: string }>(await upload(projectId, body, "application/zip"), 202);
    const job = await waitForJob(jobId);
    expect(job).toMatchObject({ status: "done", files: { total: 2, done: 1, skipped: 1 }, errors: [] });
    expect(job.skipped).toEqual([{ path: "data/huge.sql", reason: "too large", detail: expect.stringContaining("2048-byte file limit") }]);
    const huge = (await listFiles(projectId)).find((f) => f.path === "data/huge.sql");
    expect(huge).toMatchObject({ chunkIds: [], status: "skipped", skipReason: "too large", skipDetail: expect.stringContaining("5200 bytes") });
  });
});

describe("bad uploads change nothing", () => {
  const cases: [string, () => Promise<Uint8Array>, string, number, string][] = [
    ["a corrupt archive", async () => (await tarGz(tree)).subarray(0, 100), "application/gzip", 400, "corrupt_archive"],
    [
      "a path that escapes the root",
      async () => gzip(concat(tarHeader("../../etc/cron", "0", 1), new Uint8Array(512), new Uint8Array(1024))),
      "application/gzip",
      400,
      "unsafe_path",
    ],
    ["an empty upload", async () => new Uint8Array(), "application/gzip", 400, "empty_upload"],
    ["an archive with no files", async () => gzip(new Uint8Array(1024)), "application/gzip", 400, "empty_archive"],
    ["an unsupported content type", async () => tarGz(tree), "text/plain", 415, "unsupported_media_type"],
  ];

  it.each(cases)("%s", async (_name, make, type, status, code) => {
    const projectId = await createProject();
    const res = await upload(projectId, await make(), type);
    const body = await json<{ error: { code: string; message: string } }>(res, status);
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(10);
    expect(await countRows("files", projectId)).toBe(0);
    expect(await countRows("ingest_jobs", projectId)).toBe(0);
    expect((await env.CHUNKS.list({ prefix: `staging/${projectId}/` })).objects).toEqual([]);
    expect(await r2Objects(projectId)).toBe(0);
    expect(await r2Objects(projectId, "blobs")).toBe(0);
  });

  it("an archive bomb is refused with 413", async () => {
    // 576 MiB of zeros in nine files compresses to about half a megabyte and passes the 512 MiB cap.
    const fileBytes = 64 * 1024 * 1024;
    const zeros = new Uint8Array(1024 * 1024);
    const tar = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 9; i++) {
          controller.enqueue(tarHeader(`z${i}.txt`, "0", fileBytes));
          for (let at = 0; at < fileBytes; at += zeros.byteLength) controller.enqueue(zeros);
        }
        controller.enqueue(new Uint8Array(1024));
        controller.close();
      },
    });
    const body = new Uint8Array(await new Response(tar.pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
    expect(body.byteLength).toBeLessThan(2 * 1024 * 1024);
    const projectId = await createProject();
    expect((await json<{ error: { code: string } }>(await upload(projectId, body), 413)).error.code).toBe("archive_too_large");
    expect(await countRows("files", projectId)).toBe(0);
  });

  it("an unknown project and another org's project both answer 404", async () => {
    const other = await newOrg("other");
    const mine = await createProject();
    const body = await tarGz(tree);
    const missing = await json<{ error: { code: string } }>(await upload("prj_missing", body), 404);
    const foreign = await json<{ error: { code: string } }>(await upload(mine, body, "application/gzip", other.apiKey), 404);
    expect(foreign).toEqual(missing);
    expect((await api(`/api/projects/${mine}/files`, { token: other.apiKey })).status).toBe(404);
    expect((await api(`/api/projects/${mine}`, { token: other.apiKey })).status).toBe(404);
  });
});
