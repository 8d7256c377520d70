/** Secrets found at ingestion: masked in every chunk (so in search and prompts), listed by rule and lines, never stored. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, ingestTree, json, newOrg } from "../support/api";

// Assembled at run time so no scanner takes this file for a leak.
const token = `glpat-${"Zq8LmR2xT7vN4kW9pB3s"}`;
const slack = `https://hooks.slack.com/services/T${"0A1B2C3D4"}/B${"5E6F7G8H9J"}/${"kQ3mZ8rT2vX7nL4pW9sB6dF1"}`;

describe("secrets at ingestion", () => {
  it("masks them in chunks, lists them per file by rule and line, and stores no value anywhere", async () => {
    const projectId = await ingestTree([
      { path: "deploy/ci.yml", content: `steps:\n  - run: echo hi\nenv:\n  GITLAB_TOKEN: ${token}\n  NOTIFY: ${slack}\n` },
      { path: "src/app.ts", content: "export const app = () => 'hello';\n" },
    ]);
    const { files } = await json<{ files: { path: string; secrets: { ruleId: string; startLine: number; endLine: number }[]; chunkIds: string[] }[] }>(
      await api(`/api/projects/${projectId}/files`),
      200,
    );
    const ci = files.find((f) => f.path === "deploy/ci.yml");
    expect(ci?.secrets).toEqual([
      { ruleId: "gitlab-pat", startLine: 4, endLine: 4 },
      { ruleId: "slack-webhook-url", startLine: 5, endLine: 5 },
    ]);
    expect(files.find((f) => f.path === "src/app.ts")?.secrets).toEqual([]);
    const chunk = await json<{ text: string; secrets: unknown[] }>(await api(`/api/chunks/${ci?.chunkIds[0]}`), 200);
    expect(chunk.text).toContain("GITLAB_TOKEN: [secret:gitlab-pat]");
    expect(chunk.secrets).toEqual(ci?.secrets);
    expect(chunk.text).not.toContain(token);
    const rows = await env.DB.prepare("SELECT * FROM files WHERE project_id = ?").bind(projectId).all();
    expect(JSON.stringify(rows.results)).not.toContain(token);
    const ctx = await json<{ contextText: string }>(
      await api("/api/context/assemble", {
        method: "POST",
        body: JSON.stringify({ projectId, prompt: "how does ci notify gitlab", budget: 8000, includeText: true }),
        headers: { "content-type": "application/json" },
      }),
      200,
    );
    expect(ctx.contextText).toContain("[secret:slack-webhook-url]");
    expect(ctx.contextText).not.toContain(slack);
  });

  it("an org that chooses reject gets such a file skipped with the rules and lines, and the rest ingested", async () => {
    const org = await newOrg("strict");
    const settings = await json<{ secretHandling: string }>(
      await api(`/api/orgs/${org.orgId}/settings`, {
        method: "PATCH",
        token: org.apiKey,
        body: JSON.stringify({ secretHandling: "reject" }),
        headers: { "content-type": "application/json" },
      }),
      200,
    );
    expect(settings.secretHandling).toBe("reject");
    const projectId = await ingestTree(
      [
        { path: "ci.yml", content: `env:\n  GITLAB_TOKEN: ${token}\n` },
        { path: "src/app.ts", content: "export const app = 1;\n" },
      ],
      {},
      org.apiKey,
    );
    const { files } = await json<{ files: { path: string; status: string; skipReason: string | null; skipDetail: string | null; chunkIds: string[] }[] }>(
      await api(`/api/projects/${projectId}/files`, { token: org.apiKey }),
      200,
    );
    expect(files.find((f) => f.path === "ci.yml")).toMatchObject({
      status: "skipped",
      skipReason: "contains secrets",
      skipDetail: "gitlab-pat at line 2",
      chunkIds: [],
    });
    expect(files.find((f) => f.path === "src/app.ts")?.status).toBe("text");
    const chunks = await env.DB.prepare("SELECT count(*) AS n FROM chunks WHERE project_id = ? AND path = 'ci.yml'").bind(projectId).first<{ n: number }>();
    expect(chunks?.n).toBe(0);
  });
});
