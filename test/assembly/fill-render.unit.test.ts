import { describe, expect, it } from "vitest";
import { TokenBudget } from "../../src/lib/assembly/budget";
import { fillSummaries, lazyFileSummaries, SummaryList } from "../../src/lib/assembly/fill";
import { ChunkLoader, SnippetList } from "../../src/lib/assembly/pack";
import { asPiece } from "../../src/lib/assembly/pieces";
import { blockKey } from "../../src/lib/assembly/prompt";
import type { Ranking } from "../../src/lib/assembly/rank";
import { contextPieces, renderContext } from "../../src/lib/assembly/render";
import { body, fakeStore, summary } from "./support";

const roomy = (): TokenBudget => new TokenBudget(100_000, "cl100k_base");
const ranking = (fileOrder: string[]): Ranking => ({
  ranked: new Map(),
  hot: new Set(),
  terms: { query: [], title: [] },
  fileOrder,
  chunksByFile: new Map(),
  fileScores: new Map(),
  namedLines: new Map(),
});

describe("fill", () => {
  it("adds file summaries of ranked files, then matching ones, then every other file and directory summary", () => {
    const chunks = [body("a", "a.ts", 1, ["a"]), body("b", "b.ts", 1, ["b"]), body("c", "c.ts", 1, ["c"]), body("w", "w.ts", 1, ["w"])];
    const store = fakeStore(chunks, {
      summaryMatches: () => [
        { level: "file", path: "c.ts" },
        { level: "directory", path: "lib" },
      ],
      dirSummaries: () => [summary("dir-summary", "lib"), summary("dir-summary", "")],
    });
    const budget = roomy();
    const summaries = new SummaryList(budget, 7);
    const req = { prompt: "p", budget: 100_000, tokenizer: "cl100k_base" as const };
    const snippets = new SnippetList(budget, 5);
    fillSummaries(
      {
        store,
        req,
        budget,
        ranking: ranking(["b.ts", "w.ts"]),
        packed: { complete: true, wholeFiles: new Set(["w.ts"]) },
        snippets,
        loader: new ChunkLoader(store, req),
        everyFileSummary: lazyFileSummaries(store, "cl100k_base"),
      },
      summaries,
    );
    expect(summaries.items.map((s) => s.piece.path)).toEqual(["b.ts", "c.ts", "lib", "a.ts", ""]);
    expect(budget.used).toBe(7 + 5 * 20);
  });

  it("stops at the first summary that does not fit: a later, smaller one is refused too", () => {
    const budget = new TokenBudget(1000, "cl100k_base");
    budget.used = budget.limit - 30;
    const summaries = new SummaryList(budget, 0);
    expect(summaries.add(summary("file-summary", "a.ts", 20), 0)).toBe(true);
    expect(summaries.add(summary("file-summary", "big.ts", 50), 0)).toBe(false);
    expect(summaries.add(summary("file-summary", "c.ts", 5), 0)).toBe(false);
    expect(summaries.full).toBe(true);
    expect(summaries.items.map((s) => s.piece.path)).toEqual(["a.ts"]);
  });
});

describe("render", () => {
  const piece = asPiece(body("k", "k.ts", 1, ["const k = 1;"])).piece;
  const input = {
    projectSummary: summary("project-summary", ""),
    snippets: [{ piece, score: 0.5, reasons: ["lexical match" as const], tokens: 4 }],
    summaries: [{ piece: { id: "s", kind: "file-summary" as const, path: "k.ts", startLine: 0, endLine: 0, text: "k" }, tokens: 1, score: 0 }],
    conversation: [],
    instruction: "do it",
  };

  it("renders the spec's sections in order as one text", () => {
    const { contextText, blocks } = renderContext({ ...input, cachedKeys: undefined }, () => "unused");
    expect(blocks).toBeUndefined();
    expect(contextText?.match(/^---[A-Z_]+---$/gm)).toEqual([
      "---SYSTEM---",
      "---PROJECT_SUMMARY---",
      "---RELEVANT_SNIPPETS---",
      "---CHUNK_SUMMARIES---",
      "---USER_INSTRUCTION---",
      "---RESPONSE_FORMAT---",
    ]);
    expect(contextText).toContain("---source: k, k.ts:1-1\nconst k = 1;\n");
  });

  it("with held keys, returns blocks and leaves the held ones' text out; a textless snippet not held is read", () => {
    const held = blockKey(piece);
    const { blocks } = renderContext({ ...input, cachedKeys: [held] }, () => "never");
    expect(blocks?.find((b) => b.key === held)).toEqual({ key: held, text: "" });
    const textless = { ...input.snippets[0], piece: { ...piece, text: "" }, textless: true } as (typeof input.snippets)[number];
    const read = renderContext({ ...input, snippets: [textless], cachedKeys: [] }, () => "const k = 1;\n");
    expect(read.blocks?.find((b) => b.key === held)?.text).toBe("---source: k, k.ts:1-1\nconst k = 1;\n");
  });

  it("lists the pieces in prompt order with their reasons", () => {
    expect(contextPieces(input.projectSummary, input.snippets, input.summaries).map((p) => [p.chunkId, p.kind, p.reasons])).toEqual([
      ["sum:", "project-summary", ["summary fill"]],
      ["k", "chunk", ["lexical match"]],
      ["s", "file-summary", ["summary fill"]],
    ]);
  });
});
