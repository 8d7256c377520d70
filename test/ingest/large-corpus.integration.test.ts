import { env } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { CLAUDE_TOKEN_FACTOR } from "../../src/lib/tokenizer";
import { api, createProject, json, waitForJob } from "../support/api";

const corpus = inject("corpus");

describe("a real corpus of over 1M tokens", () => {
  it("goes end to end through the queue with every count accounted for", async () => {
    expect(corpus.tokens).toBeGreaterThanOrEqual(1_000_000);
    const projectId = await createProject(undefined, { name: "corpus" });
    const archive = Uint8Array.from(atob(corpus.archiveBase64), (c) => c.charCodeAt(0));
    const { jobId } = await json<{ jobId: string }>(
      await api(`/api/projects/${projectId}/ingest`, { method: "POST", body: archive, headers: { "content-type": "application/gzip" } }),
      202,
    );
    const job = await waitForJob(jobId, undefined, 170_000);
    expect(job.status).toBe("done");
    expect(job.errors).toEqual([]);
    expect(job.files).toMatchObject({ total: corpus.files.length, done: corpus.files.length, skipped: 0, ignored: 0 });

    const files = (
      await json<{ files: { path: string; sizeBytes: number; tokenCount: number; chunkIds: string[] }[] }>(
        await api(`/api/projects/${projectId}/files?limit=1000`),
        200,
      )
    ).files;
    expect(files.map((f) => [f.path, f.sizeBytes]).sort()).toEqual(corpus.files.map((f) => [f.path, f.bytes]).sort());
    expect(files.reduce((n, f) => n + f.tokenCount, 0)).toBe(job.tokens);
    expect(files.reduce((n, f) => n + f.chunkIds.length, 0)).toBe(job.chunks);

    // Claude counts are cl100k * 1.35 per chunk; overlaps of at most 256 tokens per seam add a little.
    expect(job.tokens).toBeGreaterThanOrEqual(Math.floor(corpus.tokens * CLAUDE_TOKEN_FACTOR * 0.995));
    expect(job.tokens).toBeLessThanOrEqual(Math.ceil(corpus.tokens * CLAUDE_TOKEN_FACTOR * 1.1));

    const stats = await env.DB.prepare("SELECT count(*) AS n, max(token_count) AS maxTokens, count(DISTINCT sha256) AS shas FROM chunks WHERE project_id = ?")
      .bind(projectId)
      .first<{ n: number; maxTokens: number; shas: number }>();
    expect(stats?.n).toBe(job.chunks);
    expect(stats?.maxTokens).toBeLessThanOrEqual(8000);
    expect(job.chunksWritten).toBe(stats?.shas);
    let objects = 0;
    let cursor: string | undefined;
    do {
      const page = await env.CHUNKS.list({ prefix: `projects/${projectId}/chunks/`, ...(cursor ? { cursor } : {}) });
      objects += page.objects.length;
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    expect(objects).toBe(stats?.shas);
  });
});
