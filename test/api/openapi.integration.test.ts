/**
 * The OpenAPI document covers every route with its responses, and every integration test's responses are
 * checked against it (WINKY_VALIDATE_RESPONSES in vitest.config.ts): here, that a response which strays
 * from its schema is caught.
 */
import { SELF } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { app } from "../../workers/api/app";
import { describe as describeRoute } from "../../workers/api/openapi";
import type { AppEnv } from "../../workers/api/types";
import { api, createProject } from "../support/api";
import { TEST_ORG_ID } from "../support/test-org";

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }>; security?: unknown[] }>>;
  components: { schemas: Record<string, unknown> };
};

const openApiPath = (p: string) => p.replace(/:(\w+)/g, "{$1}");

describe("GET /openapi.json", () => {
  it("is OpenAPI 3.1 and names every route of the app, each with a documented success response", async () => {
    const res = await SELF.fetch("https://x/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Doc;
    expect(doc.openapi).toBe("3.1.0");
    const routes = app.routes.filter((r) => r.method !== "ALL");
    const unique = [...new Set(routes.map((r) => `${r.method} ${r.path}`))];
    expect(unique.length).toBeGreaterThan(40);
    for (const key of unique) {
      const [method, path] = key.split(" ") as [string, string];
      const op = doc.paths[openApiPath(path)]?.[method.toLowerCase()];
      expect(op, `${key} is not in the document`).toBeDefined();
      const statuses = Object.keys(op?.responses ?? {});
      expect(statuses, `${key} documents no response`).toContain("default");
      const success = statuses.filter((s) => /^[12]\d\d$/.test(s));
      // The old shared webhook URL only answers 410, and a stateless MCP server 405 to GET.
      if (key !== "POST /api/webhooks/github" && key !== "GET /mcp") expect(success.length, `${key} documents no success response`).toBeGreaterThan(0);
      for (const s of success) {
        const r = op?.responses[s];
        if (s === "204" || s === "101") expect(r?.content).toBeUndefined();
        else
          expect(
            Object.values(r?.content ?? {}).every((m) => m.schema !== undefined),
            `${key} ${s} has no schema`,
          ).toBe(true);
      }
    }
  });

  it("describes request bodies and query strings from the routes' own zod schemas", async () => {
    const doc = (await (await SELF.fetch("https://x/openapi.json")).json()) as Doc & {
      paths: Record<
        string,
        Record<
          string,
          { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> }; parameters?: { name: string; in: string }[] }
        >
      >;
    };
    const assemble = doc.paths["/api/context/assemble"]?.post;
    expect(Object.keys(assemble?.requestBody?.content["application/json"]?.schema.properties ?? {})).toEqual(
      expect.arrayContaining(["projectId", "prompt", "budget", "hotPaths", "conversation"]),
    );
    const files = doc.paths["/api/projects/{projectId}/files"]?.get;
    expect(files?.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(expect.arrayContaining(["path:projectId", "query:limit", "query:status"]));
    expect(doc.paths["/api/projects"]?.post?.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/health"]?.get?.security).toEqual([]);
  });

  it("documents only the generation fields that change behaviour: no runtime, authType, size or previewUrl", async () => {
    const doc = (await (await SELF.fetch("https://x/openapi.json")).json()) as Doc & {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }>>;
    };
    const request = Object.keys(doc.paths["/api/ai/generate-prototype"]?.post?.requestBody?.content["application/json"]?.schema.properties ?? {});
    expect(request).toEqual(expect.arrayContaining(["projectId", "prompt", "maxContextTokens"]));
    for (const gone of ["runtime", "authType", "size"]) expect(request).not.toContain(gone);
    expect(JSON.stringify(doc.components.schemas.Generation)).not.toContain("previewUrl");
  });
});

describe("GET /docs", () => {
  it("is a readable page of every operation, served without scripts from elsewhere", async () => {
    const res = await SELF.fetch("https://x/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const page = await res.text();
    expect(page).toContain("Winky Context API");
    expect(page).toContain("/api/context/assemble");
    expect(page).toContain("/api/projects/{projectId}/uploads/{uploadId}/parts/{partNumber}");
    expect(page).not.toMatch(/<script[^>]+src=/);
  });
});

describe("response conformance", () => {
  const probe = (body: unknown, status = 200) =>
    new Hono<AppEnv>()
      .use(async (c, next) => {
        c.set("requestId", "req_probe");
        await next();
      })
      .get("/probe", describeRoute({ summary: "probe", tags: ["test"], caller: "public", responses: { 200: z.object({ a: z.number() }) } }), (c) =>
        c.json(body as object, status as 200),
      );
  const call = (body: unknown, status?: number) => probe(body, status).request("/probe", {}, { WINKY_VALIDATE_RESPONSES: "on" } as Env);

  it("passes a response that matches its schema, and turns one that does not into a 500 naming the field", async () => {
    expect((await call({ a: 1 })).status).toBe(200);
    const wrongType = await call({ a: "1" });
    expect(wrongType.status).toBe(500);
    expect(((await wrongType.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "response_schema_mismatch" });
    const extra = await call({ a: 1, secret: "x" });
    expect(((await extra.json()) as { error: { message: string } }).error.message).toContain("fields not in the schema: secret");
    expect((await call({ a: 1 }, 201)).status).toBe(500);
    expect((await call({ nope: true }, 404)).status).toBe(500);
    expect((await call({ error: { code: "not_found", message: "no" } }, 404)).status).toBe(404);
  });

  it("is on for every integration test: real responses of keyed routes pass their schemas", async () => {
    const projectId = await createProject();
    for (const path of [
      `/api/projects/${projectId}`,
      "/api/projects",
      `/api/projects/${projectId}/files`,
      "/api/keys",
      "/api/usage",
      `/api/orgs/${TEST_ORG_ID}/limits`,
      `/api/orgs/${TEST_ORG_ID}/settings`,
      "/api/audit",
    ]) {
      const res = await api(path);
      expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
    }
  });
});
