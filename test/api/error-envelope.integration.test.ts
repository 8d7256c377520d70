/** One error envelope everywhere: HTTP errors of every kind carry the request id; nothing internal leaks. */
import { describe, expect, it } from "vitest";
import { api, createProject, json } from "../support/api";

describe("the error envelope", () => {
  it("carries the request id on a validation error, a missing route, a missing resource and an auth failure", async () => {
    const headers = { "content-type": "application/json", "cf-ray": "ray-123" };
    const invalid = await json<{ error: { code: string; issues: unknown[]; requestId: string } }>(
      await api("/api/projects", { method: "POST", body: JSON.stringify({ name: "" }), headers }),
      400,
    );
    expect(invalid.error).toMatchObject({ code: "invalid_request", requestId: "ray-123" });
    expect(invalid.error.issues.length).toBeGreaterThan(0);
    expect((await json(await api("/api/nowhere", { headers }), 404)).error).toMatchObject({ code: "not_found", requestId: "ray-123" });
    expect((await json(await api("/api/projects/prj_missing", { headers }), 404)).error).toMatchObject({ code: "not_found", requestId: "ray-123" });
    expect((await json(await api("/api/projects", { token: "wrong", headers }), 401)).error).toMatchObject({ requestId: "ray-123" });
  });

  it("streams a failed sandbox run as an error line in the same envelope", async () => {
    const projectId = await createProject();
    const res = await api("/api/sandbox/runs", {
      method: "POST",
      body: JSON.stringify({ projectId, commands: ["true"], change: { diff: "--- a/none.js\n+++ b/none.js\n@@ -1 +1 @@\n-a\n+b\n" } }),
      headers: { "content-type": "application/json", accept: "application/x-ndjson", "cf-ray": "ray-456" },
    });
    const body = await res.text();
    const lines = body
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type?: string; error?: { code: string; requestId: string } });
    const last = lines.at(-1);
    if (res.status === 200) expect(last).toMatchObject({ type: "error", error: { requestId: "ray-456" } });
    else expect(last).toMatchObject({ error: { requestId: "ray-456" } });
  });
});
