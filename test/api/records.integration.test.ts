import { describe, expect, it } from "vitest";
import { api, createProject, json } from "../support/api";

type Stored = {
  path: string;
  type: string;
  tokens: number;
  chunks: { chunkId: string; tokenCount: number; startLine: number; endLine: number; severity: string | null }[];
};

const post = (path: string, body: unknown) => api(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

describe("conversations and logs", () => {
  it("chunks a conversation at message boundaries as type conversation", async () => {
    const projectId = await createProject(undefined, { tokenizer: "cl100k_base", chunkTokens: 300, overlapTokens: 128 });
    const messages = Array.from({ length: 40 }, (_, i) => ({
      role: i % 2 ? "assistant" : "user",
      content: `Message ${i}: please refactor the parser so that it handles nested blocks.`,
    }));
    const stored = await json<Stored>(await post(`/api/projects/${projectId}/conversations`, { conversationId: "chat-1", messages }), 201);
    expect(stored.type).toBe("conversation");
    expect(stored.chunks.length).toBeGreaterThan(1);
    for (const c of stored.chunks) {
      expect(c.tokenCount).toBeLessThanOrEqual(300);
      const chunk = await json<{ text: string; type: string }>(await api(`/api/chunks/${c.chunkId}`), 200);
      expect(chunk.type).toBe("conversation");
      expect(chunk.text).toMatch(/^\[(user|assistant)\]\n/);
      expect(chunk.text.endsWith("\n\n")).toBe(true);
    }
    // Posting the same messages again is idempotent: same path, same chunk ids.
    const again = await json<Stored>(await post(`/api/projects/${projectId}/conversations`, { conversationId: "chat-1", messages }), 201);
    expect(again.chunks.map((c) => c.chunkId)).toEqual(stored.chunks.map((c) => c.chunkId));
  });

  it("chunks logs with their severity, from entries or raw text", async () => {
    const projectId = await createProject(undefined, { tokenizer: "cl100k_base", chunkTokens: 300, overlapTokens: 128 });
    const entries = Array.from({ length: 60 }, (_, i) => ({ severity: i === 45 ? "error" : "info", message: `GET /api/items/${i} 200 in ${i} ms` }));
    const stored = await json<Stored>(await post(`/api/projects/${projectId}/logs`, { source: "api", entries }), 201);
    expect(stored.type).toBe("log");
    expect(stored.chunks.map((c) => c.severity)).toContain("error");
    expect(stored.chunks.filter((c) => c.severity === "error").length).toBe(1);
    const raw = await json<Stored>(await post(`/api/projects/${projectId}/logs`, { source: "worker", text: "boot ok\nWARN slow query\nINFO done\n" }), 201);
    expect(raw.chunks).toEqual([expect.objectContaining({ startLine: 1, endLine: 3, severity: "warn" })]);
  });

  it("refuses malformed bodies with 400 and the issues", async () => {
    const projectId = await createProject();
    const bad = await json<{ error: { code: string; issues: { path: string }[] } }>(
      await post(`/api/projects/${projectId}/logs`, { source: "api", entries: [{ severity: "loud", message: 1 }] }),
      400,
    );
    expect(bad.error.code).toBe("invalid_request");
    expect(bad.error.issues.map((i) => i.path).sort()).toEqual(["entries.0.message", "entries.0.severity"]);
    // JSON sent as a form (what `curl -d` does) is read as JSON all the same.
    const asForm = await api(`/api/projects/${projectId}/logs`, {
      method: "POST",
      body: JSON.stringify({ source: "curl", text: "ERROR boom" }),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(asForm.status).toBe(201);
    const notJson = await api(`/api/projects/${projectId}/conversations`, { method: "POST", body: "{", headers: { "content-type": "application/json" } });
    expect((await json<{ error: { code: string } }>(notJson, 400)).error.code).toBe("invalid_json");
    expect(
      (await json<{ error: { code: string } }>(await post(`/api/projects/${projectId}/conversations`, { conversationId: "x", messages: [] }), 400)).error.code,
    ).toBe("invalid_request");
  });
});
