/** Archives made by real tools, uploaded through the API: every entry's outcome, and the rest searchable. */
import { describe, expect, inject, it } from "vitest";
import { api, createProject, json, waitForJob } from "../support/api";

const base = inject("realArchivesUrl");

type FileView = { path: string; status: string; encoding: string | null; linkTarget: string | null; skipReason: string | null };

async function upload(name: string, contentType: string): Promise<{ projectId: string; job: Awaited<ReturnType<typeof waitForJob>> }> {
  const body = new Uint8Array(await (await fetch(`${base}/${name}`)).arrayBuffer());
  const projectId = await createProject();
  const res = await api(`/api/projects/${projectId}/ingest`, { method: "POST", body, headers: { "content-type": contentType } });
  const { jobId } = await json<{ jobId: string }>(res, 202);
  return { projectId, job: await waitForJob(jobId) };
}

async function listAll(projectId: string): Promise<FileView[]> {
  const out: FileView[] = [];
  let cursor = "";
  for (;;) {
    const page = await json<{ files: FileView[]; nextCursor: string | null }>(await api(`/api/projects/${projectId}/files?limit=1000${cursor}`), 200);
    out.push(...page.files);
    if (!page.nextCursor) return out;
    cursor = `&cursor=${encodeURIComponent(page.nextCursor)}`;
  }
}

describe("uploads of archives made by real tools", () => {
  it.each([
    ["pax.tar.gz", "application/gzip"],
    ["bsdtar-pax.tar.gz", "application/gzip"],
    ["git-archive.zip", "application/zip"],
  ])("%s: every entry has its outcome and the code is searchable", async (name, type) => {
    const { projectId, job } = await upload(name, type);
    expect(job.status).toBe("done");
    const files = new Map((await listAll(projectId)).map((f) => [f.path, f]));
    expect(files.get("tests/data_latin1.py")).toMatchObject({ status: "text", encoding: "windows-1252" });
    expect(files.get("src/café.ts")).toMatchObject({ status: "text", encoding: null });
    expect(files.get("CITATION")).toMatchObject({ status: "link", linkTarget: "docs/cite.txt" });
    expect(files.get("evil")).toMatchObject({ status: "skipped", skipReason: "symlink" });
    if (name !== "git-archive.zip") expect(files.get("fifo")).toMatchObject({ status: "skipped", skipReason: "special file" });
    const assembled = await json<{ contextPieces: { sourcePath: string }[] }>(
      await api("/api/context/assemble", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ projectId, prompt: "where is crème defined?", budget: 8000 }),
      }),
      200,
    );
    expect(assembled.contextPieces.map((p) => p.sourcePath)).toContain("src/café.ts");
  });

  it("a zip64 archive of 70,000 entries is read whole and staged into the job pipeline", async () => {
    // Indexing all 280 batches takes minutes on the local single-flight queue (npm run bench:upload
    // measures large ingests); here the upload is checked to its job and the project is then deleted,
    // which ends the job's remaining messages at once.
    const body = new Uint8Array(await (await fetch(`${base}/zip64-70000.zip`)).arrayBuffer());
    const projectId = await createProject();
    const res = await api(`/api/projects/${projectId}/ingest`, { method: "POST", body, headers: { "content-type": "application/zip" } });
    const { jobId, files, batches } = await json<{ jobId: string; files: number; batches: number }>(res, 202);
    expect(files).toBe(70_000);
    expect(batches).toBe(280);
    expect((await json<{ files: { total: number } }>(await api(`/api/jobs/${jobId}`), 200)).files.total).toBe(70_000);
    const deletion = await json<{ jobId: string }>(await api(`/api/projects/${projectId}`, { method: "DELETE" }), 202);
    expect((await waitForJob(deletion.jobId)).status).toBe("done");
  });
});
