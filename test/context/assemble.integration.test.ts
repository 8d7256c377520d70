import { env, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { safetyMargin } from "../../src/lib/assembly/assemble";
import { chunkLines } from "../../src/lib/assembly/pieces";
import { renderPiece } from "../../src/lib/assembly/prompt";
import { DEFAULT_MODEL } from "../../src/lib/model/anthropic-adapter";
import { countTokens, tokenizerFor } from "../../src/lib/tokenizer";
import { ADMIN, api, createProject, ingestTree, json, newOrg, waitForJob } from "../support/api";
import { type TreeFile, tarGz } from "../support/archives";
import { fillShard } from "../support/shard";

type Piece = {
  chunkId: string;
  kind: string;
  tokenCount: number;
  sourcePath: string;
  startLine: number;
  endLine: number;
  score: number;
  reasons: string[];
  textPreview: string;
};
type Assembled = {
  callId: string;
  contextPieces: Piece[];
  tokenTotal: number;
  tokenBudget: number;
  utilization: number;
  timings: Record<string, number>;
  warnings: string[];
  contextText?: string;
};

const post = (body: unknown, token = ADMIN) =>
  api("/api/context/assemble", { method: "POST", token, body: JSON.stringify(body), headers: { "content-type": "application/json" } });

const filler = (name: string, n: number): string =>
  Array.from(
    { length: n },
    (_, i) => `export function ${name}Step${i}(input: number): number {\n  const scaled = input * ${i + 2};\n  return scaled - ${i};\n}\n`,
  ).join("\n");

const app: TreeFile[] = [
  { path: "README.md", content: "# Shop\n\nA small web shop: accounts, carts and checkout.\n" },
  {
    path: "src/auth/login.ts",
    content: `/** Login: checks credentials and issues sessions. */\nimport { findUser } from "../db/users";\n\nexport function validatePassword(password: string): boolean {\n  return password.length >= 8;\n}\n\nexport async function login(email: string, password: string) {\n  const user = await findUser(email);\n  return user && validatePassword(password);\n}\n`,
  },
  { path: "src/db/users.ts", content: `// User records in the database.\nexport async function findUser(email: string) {\n  return { email };\n}\n` },
  {
    path: "src/cart/cart.ts",
    content: `export class Cart {\n  items: string[] = [];\n  add(sku: string) {\n    this.items.push(sku);\n  }\n}\n${filler("cart", 80)}`,
  },
  {
    path: "src/billing/invoice.ts",
    content: `export function renderInvoice(total: number): string {\n  return \`Total: \${total}\`;\n}\n${filler("invoice", 120)}`,
  },
];

const ingested = (files: TreeFile[]): Promise<string> => ingestTree(files, { name: "shop" });

describe("POST /api/context/assemble", () => {
  it("credits the definitions of names few files define, not of names every class has", async () => {
    const classes = Array.from({ length: 7 }, (_, i) => ({
      path: `src/models/model${i}.py`,
      content: `class Model${i}:\n    def __init__(self, a):\n        self.a = a\n\n    def describe(self):\n        return "model ${i}"\n`,
    }));
    const projectId = await ingested([...app, ...classes, { path: "src/uml/hints.py", content: "def read_type_hints(node):\n    return node.annotations\n" }]);
    const res = await json<Assembled>(
      await post({ projectId, prompt: "read_type_hints ignores the hint of `def __init__(self, a: str = None)`", budget: 8000 }),
      200,
    );
    const reasons = (path: string) => res.contextPieces.filter((p) => p.sourcePath === path).flatMap((p) => p.reasons);
    expect(reasons("src/uml/hints.py")).toContain("symbol definition");
    for (const c of classes) expect(reasons(c.path)).not.toContain("symbol definition");
  });

  it("ranks the file that defines the prompt's symbol first and renders the spec's layout with provenance", async () => {
    const projectId = await ingested(app);
    const res = await json<Assembled>(
      await post({ projectId, prompt: "Make validatePassword reject passwords without a digit", budget: 8000, includeText: true }),
      200,
    );
    const first = res.contextPieces.find((p) => p.kind === "chunk");
    expect(first?.sourcePath).toBe("src/auth/login.ts");
    expect(first?.reasons).toEqual(expect.arrayContaining(["symbol definition", "lexical match"]));
    const text = res.contextText as string;
    const order = ["---SYSTEM---", "---PROJECT_SUMMARY---", "---RELEVANT_SNIPPETS---", "---USER_INSTRUCTION---", "---RESPONSE_FORMAT---"].map((h) =>
      text.indexOf(h),
    );
    expect(order.every((at, i) => at >= 0 && (i === 0 || at > (order[i - 1] as number)))).toBe(true);
    expect(text).toContain(`---source: ${first?.chunkId}, src/auth/login.ts:${first?.startLine}-${first?.endLine}`);
    expect(text).toContain("Winky A1");
    expect(res.tokenTotal).toBe(countTokens(text, DEFAULT_MODEL));
    expect(res.tokenTotal).toBeLessThanOrEqual(8000 - safetyMargin(8000));
    expect(res.contextPieces.some((p) => p.kind === "project-summary")).toBe(true);

    // Recorded for audit, without chunk text.
    const row = await env.DB.prepare("SELECT chunks_used, tokens_at_call, model FROM context_sessions WHERE session_id = ?")
      .bind(res.callId)
      .first<{ chunks_used: string; tokens_at_call: number; model: string }>();
    expect(row).toMatchObject({ tokens_at_call: res.tokenTotal, model: DEFAULT_MODEL });
    expect(JSON.parse(row?.chunks_used ?? "[]")).toHaveLength(res.contextPieces.length);
    expect(row?.chunks_used).not.toContain("validatePassword(password");
  });

  it("puts hot paths first, then recent changes, and fills the budget with summaries", async () => {
    const projectId = await ingested(app);
    const changed = app.map((f) => (f.path === "src/db/users.ts" ? { ...f, content: `${f.content}export const USERS_TABLE = "users";\n` } : f));
    const { jobId } = await json<{ jobId: string }>(
      await api(`/api/projects/${projectId}/ingest`, { method: "POST", body: await tarGz(changed), headers: { "content-type": "application/gzip" } }),
      202,
    );
    await waitForJob(jobId);
    const res = await json<Assembled>(
      await post({ projectId, prompt: "Show me the invoice layout", budget: 50_000, hotPaths: ["src/cart/cart.ts", "src/missing.ts"] }),
      200,
    );
    const chunks = res.contextPieces.filter((p) => p.kind === "chunk");
    expect(chunks[0]?.sourcePath).toBe("src/cart/cart.ts");
    expect(chunks[0]?.reasons).toContain("hot path");
    expect(chunks.find((p) => p.sourcePath === "src/db/users.ts")?.reasons).toContain("recent change");
    expect(res.warnings).toEqual(['hot path "src/missing.ts" is not in the project']);
    const kinds = res.contextPieces.map((p) => p.kind);
    expect(kinds[0]).toBe("project-summary");
    expect(kinds).toContain("dir-summary");
    expect(kinds.lastIndexOf("chunk")).toBeLessThan(kinds.findIndex((k) => k.endsWith("summary") && k !== "project-summary"));
  });

  it("uses more than 95% of the budget when the project is larger than it", async () => {
    const projectId = await ingested([...app, ...Array.from({ length: 12 }, (_, i) => ({ path: `src/gen/module${i}.ts`, content: filler(`gen${i}`, 150) }))]);
    for (const model of ["claude-sonnet-4-5", "gpt-4o", "gpt-4"]) {
      const res = await json<Assembled>(await post({ projectId, prompt: "refactor the generated modules", budget: 30_000, model, includeText: true }), 200);
      expect(res.utilization).toBeGreaterThan(0.95);
      expect(res.tokenTotal).toBe(countTokens(res.contextText as string, model));
      expect(res.tokenTotal).toBeLessThanOrEqual(30_000 - safetyMargin(30_000));
    }
  });

  it("counts excerpts from line segments the shard keeps from ingestion, exactly, on the first call and on later ones", async () => {
    // Large files whose lines start every way the tokenizers treat differently: indented, blank, spaces only,
    // a comment at column 0 after a brace, CRLF, a marker that needs escaping.
    const odd = (name: string, n: number): string =>
      Array.from(
        { length: n },
        (_, i) =>
          `export function ${name}${i}(input) {\n// step ${i} of the ${name} run\n  const scaled = input * ${i};\n    \n\n  return scaled;\r\n}\n---source: looks like a marker\n`,
      ).join("");
    const projectId = await ingested([
      ...app,
      { path: "src/run/steps.ts", content: odd("runStep", 300) },
      { path: "src/run/more.ts", content: odd("moreStep", 300) },
    ]);
    // Ingestion writes every chunk's cl100k counts and segments, each exact: the first assembly encodes none of them.
    const rows = await runInDurableObject(env.PROJECT_INDEX.getByName(projectId), (_o, state) =>
      state.storage.sql
        .exec<{
          chunk_id: string;
          path: string;
          start_line: number;
          end_line: number;
          text: string;
          tokens_cl: number;
          block_cl: number | null;
          segs_cl: ArrayBuffer | null;
        }>("SELECT chunk_id, path, start_line, end_line, text, tokens_cl, block_cl, segs_cl FROM chunks")
        .toArray(),
    );
    expect(rows.length).toBeGreaterThan(4);
    for (const r of rows) {
      const piece = { id: r.chunk_id, kind: "chunk" as const, path: r.path, startLine: r.start_line, endLine: r.end_line, text: r.text };
      expect(r.tokens_cl, r.chunk_id).toBe(countTokens(r.text, "gpt-4"));
      expect(r.block_cl, r.chunk_id).toBe(countTokens(renderPiece(piece), "gpt-4"));
      const segs = [...new Int32Array(r.segs_cl ?? new ArrayBuffer(0))];
      const lines = chunkLines(r.text);
      expect(segs.length, r.chunk_id).toBe(lines.length);
      // Each segment's count is its lines' fresh count.
      segs.forEach((n, i) => {
        if (n < 0) return;
        let end = i + 1;
        while (end < segs.length && (segs[end] as number) < 0) end++;
        expect(n).toBe(countTokens(`${lines.slice(i, end).join("\n")}\n`, "gpt-4"));
      });
    }
    const prompt = "runStep120 returns the wrong scaled value; moreStep7 too";
    for (const model of ["claude-sonnet-4-5", "gpt-4o"]) {
      for (const budget of [6_000, 20_000]) {
        const first = await json<Assembled>(await post({ projectId, prompt, budget, model, includeText: true }), 200);
        const again = await json<Assembled>(await post({ projectId, prompt, budget, model, includeText: true }), 200);
        expect(first.tokenTotal).toBe(countTokens(first.contextText as string, model));
        expect(again.contextText).toBe(first.contextText);
        expect(again.contextPieces.map((p) => [p.chunkId, p.startLine, p.endLine, p.tokenCount])).toEqual(
          first.contextPieces.map((p) => [p.chunkId, p.startLine, p.endLine, p.tokenCount]),
        );
        expect(first.contextPieces.some((p) => p.sourcePath === "src/run/steps.ts" && p.kind === "chunk")).toBe(true);
      }
    }
    const kept = await runInDurableObject(env.PROJECT_INDEX.getByName(projectId), (_o, state) =>
      state.storage.sql.exec<{ cl: number; o2: number }>("SELECT count(segs_cl) AS cl, count(segs_o2) AS o2 FROM chunks").one(),
    );
    expect(kept.cl).toBeGreaterThan(0);
    expect(kept.o2).toBeGreaterThan(0);
  });

  it("never exceeds the budget, for random projects, prompts, budgets and models", async () => {
    const word = fc.constantFrom("user", "order", "cart", "parse", "render", "token", "budget", "index", "queue", "value", "config", "error");
    const file = fc.record({
      path: fc.tuple(fc.constantFrom("src", "lib", "app/core", "pkg"), word, fc.constantFrom(".ts", ".py", ".go", ".md")).map(([d, w, e]) => `${d}/${w}${e}`),
      text: fc
        .array(fc.tuple(word, word, fc.integer({ min: 0, max: 999 })), { minLength: 1, maxLength: 400 })
        .map((ls) => ls.map(([a, b, n]) => `function ${a}${b}${n}() { return "${b} ${a} ${n}"; }\n`).join("")),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(file, { selector: (f) => f.path, minLength: 1, maxLength: 12 }),
        fc.array(word, { minLength: 1, maxLength: 8 }).map((ws) => `please change ${ws.join(" ")}`),
        fc.integer({ min: 4096, max: 40_000 }),
        fc.constantFrom("claude-opus-4-1", "gpt-4o", "gpt-4"),
        async (files, prompt, budget, model) => {
          const projectId = `prj_prop_${crypto.randomUUID().slice(0, 12)}`;
          await fillShard(projectId, files, tokenizerFor(model));
          const res = await env.PROJECT_INDEX.getByName(projectId).assemble({
            prompt,
            budget,
            hotPaths: [],
            tokenizer: tokenizerFor(model),
            conversation: [],
            includeText: true,
          });
          if ("error" in res) throw new Error(res.error.message);
          expect(res.tokenTotal).toBe(countTokens(res.contextText as string, model));
          expect(res.tokenTotal).toBeLessThanOrEqual(budget - safetyMargin(budget));
          const total = files.reduce((n, f) => n + countTokens(f.text, model), 0);
          if (total > budget) expect(res.utilization).toBeGreaterThan(0.95);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("says the Worker's own time in Server-Timing, on answers and on errors", async () => {
    const projectId = await ingested(app);
    const ok = await post({ projectId, prompt: "login", budget: 4096 });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("server-timing")).toMatch(/^app;dur=\d+$/);
    const bad = await post({ projectId, prompt: "", budget: 4096 });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("server-timing")).toMatch(/^app;dur=\d+$/);
  });

  it("says where the Worker's waits went: its reads before the shard, the shard, the audit row; the row keeps the first two", async () => {
    const projectId = await ingested(app);
    const res = await post({ projectId, prompt: "login", budget: 4096 });
    const worker = Number(/^app;dur=(\d+)$/.exec(res.headers.get("server-timing") ?? "")?.[1]);
    const { callId, timings } = await json<{ callId: string; timings: Record<string, number> }>(res, 200);
    for (const lap of ["reads", "shard", "audit"]) expect(timings[lap], lap).toBeGreaterThanOrEqual(0);
    expect((timings.reads ?? 0) + (timings.shard ?? 0) + (timings.audit ?? 0)).toBeLessThanOrEqual(worker);
    const row = await env.DB.prepare("SELECT result_meta FROM context_sessions WHERE session_id = ?").bind(callId).first<{ result_meta: string }>();
    const stored = (JSON.parse(row?.result_meta ?? "{}") as { timings?: Record<string, number> }).timings;
    expect(stored).toMatchObject({ reads: timings.reads, shard: timings.shard });
    expect(stored).not.toHaveProperty("audit");
  });

  it("answers bad input with clear 4xx errors", async () => {
    const projectId = await createProject();
    const other = await newOrg("other");
    const code = async (res: Response, status: number) => (await json<{ error: { code: string } }>(res, status)).error.code;
    expect(await code(await post({ projectId: "prj_nope", prompt: "x" }), 404)).toBe("not_found");
    expect(await code(await post({ projectId, prompt: "x" }, other.apiKey), 404)).toBe("not_found");
    expect(await code(await post({ projectId, prompt: "   " }), 400)).toBe("invalid_request");
    expect(await code(await post({ projectId, prompt: "x".repeat(200_001) }), 400)).toBe("invalid_request");
    expect(await code(await post({ projectId, prompt: "x", budget: 100 }), 400)).toBe("invalid_request");
    expect(await code(await post({ projectId, prompt: "x", budget: 5_000_000 }), 400)).toBe("invalid_request");
    expect(await code(await post({ projectId, prompt: "x", model: "llama-3" }), 400)).toBe("unknown_model");
    expect(await code(await post({ projectId, prompt: "word ".repeat(20_000), budget: 8000 }), 400)).toBe("prompt_too_long");
  });
});

describe("the index shard follows the catalog", () => {
  it("drops removed files from assembly and keeps file, directory and project summaries in D1", async () => {
    const projectId = await ingested(app);
    const before = await json<Assembled>(await post({ projectId, prompt: "change findUser to look users up by id", budget: 8000 }), 200);
    expect(before.contextPieces.some((p) => p.kind === "chunk" && p.sourcePath === "src/db/users.ts")).toBe(true);

    const { jobId } = await json<{ jobId: string }>(
      await api(`/api/projects/${projectId}/ingest`, {
        method: "POST",
        body: await tarGz(app.filter((f) => f.path !== "src/db/users.ts")),
        headers: { "content-type": "application/gzip" },
      }),
      202,
    );
    expect((await waitForJob(jobId)).files.removed).toBe(1);
    const after = await json<Assembled>(await post({ projectId, prompt: "change findUser to look users up by id", budget: 8000 }), 200);
    expect(after.contextPieces.some((p) => p.sourcePath === "src/db/users.ts")).toBe(false);

    const levels = await env.DB.prepare("SELECT level, count(*) AS n FROM summaries WHERE project_id = ? GROUP BY level ORDER BY level")
      .bind(projectId)
      .all<{ level: string; n: number }>();
    expect(Object.fromEntries(levels.results.map((r) => [r.level, r.n]))).toEqual({ directory: 5, file: 4, project: 1 });
  });

  it("indexes summaries like chunks: the ones matching the prompt come first", async () => {
    const projectId = await ingested(app);
    const res = await json<Assembled>(await post({ projectId, prompt: "where does the billing code live?", budget: 60_000 }), 200);
    expect(res.contextPieces.find((p) => p.kind === "dir-summary")?.sourcePath).toBe("src/billing");
  });

  it("links files through the names they use", async () => {
    const projectId = await ingested(app);
    const res = await json<Assembled>(await post({ projectId, prompt: "validatePassword must accept passphrases", budget: 60_000 }), 200);
    // login.ts defines validatePassword and calls findUser, defined only in users.ts.
    expect(res.contextPieces.find((p) => p.sourcePath === "src/db/users.ts")?.reasons).toContain("symbol link");
  });
});
