import { describe, expect, it } from "vitest";
import { turnsOf } from "../../src/lib/assembly/pack";
import type { Ranking } from "../../src/lib/assembly/rank";
import { applyRerank } from "../../src/lib/assembly/rerank";
import { parseRerank } from "../../src/lib/model/rerank";

function ranking(files: [string, number][]): Ranking {
  const ranked = new Map(files.map(([p, s]) => [`chk_${p}`, { score: s, reasons: new Set<never>() }]));
  return {
    ranked,
    hot: new Set(),
    namedLines: new Map(),
    terms: { query: [], title: [] },
    fileOrder: files.map(([p]) => p),
    fileScores: new Map(files),
    chunksByFile: new Map(files.map(([p]) => [p, [`chk_${p}`]])),
  };
}

describe("applyRerank", () => {
  it("gives the top files the model's order on the same scores; unlisted ones follow in theirs; the rest is untouched", () => {
    const r = ranking([
      ["a", 0.9],
      ["b", 0.8],
      ["c", 0.7],
      ["d", 0.6],
      ["e", 0.1],
    ]);
    expect(applyRerank(r, ["c", "a", "zzz", "c"], 4)).toEqual(["c", "a", "b", "d"]);
    expect(r.fileOrder).toEqual(["c", "a", "b", "d", "e"]);
    expect([...r.fileScores.entries()]).toEqual(
      expect.arrayContaining([
        ["c", 0.9],
        ["a", 0.8],
        ["b", 0.7],
        ["d", 0.6],
        ["e", 0.1],
      ]),
    );
    // Packing's first turns follow the new order.
    expect(
      turnsOf(r)
        .filter((t) => t.kind === "first")
        .map((t) => t.path),
    ).toEqual(["c", "a", "b", "d", "e"]);
  });
});

describe("parseRerank", () => {
  const candidates = ["x.py", "y.py", "z.py"].map((path) => ({ path, summary: "" }));
  it("reads the candidates' numbers best first, around prose", () => {
    expect(parseRerank('Sure: {"ranking": [2, 0]}', candidates)).toEqual({ order: ["z.py", "x.py"] });
  });
  it("refuses numbers out of range, repeats, non-integers, an empty list and no JSON", () => {
    for (const text of ['{"ranking": [3]}', '{"ranking": [1, 1]}', '{"ranking": [0.5]}', '{"ranking": []}', "no idea", '{"order": [0]}'])
      expect(parseRerank(text, candidates)).toEqual({ invalid: expect.stringContaining("not a valid ranking") });
  });
});
