import { describe, expect, it } from "vitest";
import { api, json } from "../support/api";

describe("health and auth", () => {
  it("serves /health without a token", async () => {
    expect(await json(await api("/health", { token: "" }), 200)).toMatchObject({ ok: true });
  });

  it("rejects /api without a token, and with a wrong one", async () => {
    expect((await json<{ error: { code: string } }>(await api("/api/projects", { method: "POST", token: "" }), 401)).error.code).toBe("unauthorized");
    expect((await json<{ error: { code: string } }>(await api("/api/projects", { method: "POST", token: "nope" }), 401)).error.code).toBe("unauthorized");
  });
});
