import { describe, expect, it } from "vitest";
import { rankingOff } from "../../src/lib/assembly/assemble";
import {
  closeVectorHits,
  credit,
  creditFiles,
  creditList,
  FILE_REST_SHARE,
  type Fused,
  groupByFile,
  nearestManifests,
  RRF_K,
  rankChunks,
  topPaths,
  WEIGHTS,
} from "../../src/lib/assembly/rank";
import type { ChunkMeta, RankingFeature } from "../../src/lib/assembly/types";
import { body, fakeStore } from "./support";

const meta = (chunkId: string, path: string, ordinal = 0): ChunkMeta => ({ chunkId, path, ordinal, startLine: 1, endLine: 1 });

describe("rank: reciprocal-rank fusion", () => {
  it("adds weight / (RRF_K + rank) per signal and records each signal once", () => {
    const ranked: Fused = new Map();
    creditList(ranked, ["a", "b"], "lexical match");
    credit(ranked, "a", "hot path", 0);
    credit(ranked, "a", "hot path", 3);
    expect(ranked.get("a")?.score).toBeCloseTo(WEIGHTS["lexical match"] / RRF_K + WEIGHTS["hot path"] / RRF_K + WEIGHTS["hot path"] / (RRF_K + 3));
    expect([...(ranked.get("a")?.reasons ?? [])]).toEqual(["lexical match", "hot path"]);
    expect(ranked.get("b")?.score).toBeCloseTo(1 / (RRF_K + 1));
  });

  it("credits a signal that ranks files to each file's best chunk so far, and to its other chunks at a share", () => {
    const ranked: Fused = new Map([["b2", { score: 0.01, reasons: new Set(["lexical match"]) }]]);
    const chunks = [meta("a2", "a.ts", 1), meta("a1", "a.ts", 0), meta("b1", "b.ts", 0), meta("b2", "b.ts", 1)];
    creditFiles(
      ranked,
      chunks,
      "symbol link",
      new Map([
        ["a.ts", 0],
        ["b.ts", 1],
      ]),
      (p) => (p === "b.ts" ? 0.5 : 1),
    );
    const link = (place: number): number => WEIGHTS["symbol link"] / (RRF_K + place);
    // No other signal ranked a chunk of a.ts: its first chunk takes the whole credit, wherever it is listed.
    expect(ranked.get("a1")?.score).toBeCloseTo(link(0));
    expect(ranked.get("a2")?.score).toBeCloseTo(link(0) * FILE_REST_SHARE);
    expect(ranked.get("a2")?.score ?? 1).toBeLessThan(ranked.get("a1")?.score ?? 0);
    // b.ts's second chunk is the one the lexical search found: it leads, each at the file's place and factor.
    expect(ranked.get("b2")?.score).toBeCloseTo(0.01 + link(1) * 0.5);
    expect(ranked.get("b1")?.score).toBeCloseTo(link(1) * 0.5 * FILE_REST_SHARE);
    expect([...(ranked.get("b1")?.reasons ?? [])]).toEqual(["symbol link"]);
  });

  it("keeps vector hits within half the best score, each at its rank in the full list", () => {
    const hits = [
      { chunkId: "a", score: 0.8 },
      { chunkId: "b", score: 0.3 },
      { chunkId: "c", score: 0.4 },
    ];
    expect(closeVectorHits(hits)).toEqual([
      { chunkId: "a", rank: 0 },
      { chunkId: "c", rank: 2 },
    ]);
    expect(closeVectorHits([])).toEqual([]);
  });

  it("orders files by their best chunk, chunks best first with ties by path and position, and drops chunks without metadata", () => {
    const ranked: Fused = new Map([
      ["b2", { score: 1, reasons: new Set() }],
      ["a1", { score: 2, reasons: new Set() }],
      ["b1", { score: 1, reasons: new Set() }],
      ["c1", { score: 1.5, reasons: new Set() }],
      ["c2", { score: 1.5, reasons: new Set() }],
      ["c3", { score: 1.5, reasons: new Set() }],
      ["ghost", { score: 9, reasons: new Set() }],
    ]);
    const m = new Map(["a1", "b1", "b2", "c1", "c2", "c3"].map((id) => [id, meta(id, `${id[0]}.ts`)]));
    const { fileOrder, chunksByFile, fileScores } = groupByFile(ranked, m);
    // c.ts's three chunks of 1.5 do not pass a.ts's single chunk of 2: a file is as good as its best chunk.
    expect(fileOrder).toEqual(["a.ts", "c.ts", "b.ts"]);
    expect(fileScores.get("c.ts")).toBe(1.5);
    expect(fileScores.get("b.ts")).toBe(1);
    expect(chunksByFile).toEqual(
      new Map([
        ["a.ts", ["a1"]],
        ["b.ts", ["b1", "b2"]],
        ["c.ts", ["c1", "c2", "c3"]],
      ]),
    );
    expect(topPaths(ranked, m, 1)).toEqual(["a.ts"]);
  });

  it("runs the signals against a store: hot paths first, missing hot paths as warnings, stages timed", async () => {
    const chunks = [body("h", "hot.ts", 1, ["x"]), body("l", "lex.ts", 1, ["y"])];
    const store = fakeStore(chunks, { lexical: () => [{ chunkId: "l", score: 3 }] });
    const warnings: string[] = [];
    const laps: string[] = [];
    const ranking = await rankChunks(store, { prompt: "find y", hotPaths: ["hot.ts", "gone.ts"] }, warnings, (s) => laps.push(s));
    expect(ranking.fileOrder).toEqual(["hot.ts", "lex.ts"]);
    expect([...ranking.hot]).toEqual(["hot.ts"]);
    expect(warnings).toEqual(['hot path "gone.ts" is not in the project']);
    expect(laps).toEqual(["lexical", "vector", "symbols"]);
  });

  it("switches off the ranking features an operator names, and only those", async () => {
    const chunks = [body("m", "src/named.py", 1, ["x"]), body("t", "tests/test_named.py", 1, ["y"])];
    const store = fakeStore(chunks, {
      mentioned: () => [{ path: "src/named.py" }],
      lexical: () => [
        { chunkId: "t", score: 3 },
        { chunkId: "m", score: 1 },
      ],
    });
    const rank = (rankingOff: RankingFeature[]) => rankChunks(store, { prompt: "named.py fails", hotPaths: [], rankingOff }, [], () => {});
    const all = await rank([]);
    expect(all.fileOrder).toEqual(["src/named.py", "tests/test_named.py"]);
    expect([...(all.ranked.get("m")?.reasons ?? [])]).toContain("mentioned path");
    const without = await rank(rankingOff("mentions,kind-prior,unknown"));
    expect(without.fileOrder).toEqual(["tests/test_named.py", "src/named.py"]);
    expect([...(without.ranked.get("m")?.reasons ?? [])]).not.toContain("mentioned path");
  });

  it("ranks a command's manual with the code when the prompt names an option, and with the docs otherwise", async () => {
    const chunks = [
      body("man", "doc/fd.1", 1, [".B \\-\\-max\\-depth"]),
      body("doc", "docs/guide.md", 1, ["depth"]),
      body("code", "src/walk.rs", 1, ["max_depth"]),
    ];
    const store = fakeStore(chunks, {
      lexical: () => [
        { chunkId: "man", score: 3 },
        { chunkId: "doc", score: 2 },
        { chunkId: "code", score: 1 },
      ],
    });
    const rank = (prompt: string) => rankChunks(store, { prompt, hotPaths: [], rankingOff: [] }, [], () => {});
    expect((await rank("Add a --min-depth counterpart to --max-depth")).fileOrder).toEqual(["doc/fd.1", "src/walk.rs", "docs/guide.md"]);
    expect((await rank("results come back in a random depth order")).fileOrder[0]).toBe("src/walk.rs");
  });

  it("lets a report's title find the code its body's logs bury, as its own signal", async () => {
    const chunks = [
      body("r", "src/render.ts", 1, ["export function renderFrame(alpha) { return blend(alpha); }"]),
      body("g", "src/log.ts", 1, ["// writes logger lines: worker queue retry spooler heartbeat shard"]),
      body("o", "src/other.ts", 1, ["export const unrelated = 1;"]),
    ];
    // A small lexical search: chunks holding more of the terms first.
    const lexical = (terms: string[]) =>
      chunks
        .map((c) => ({ chunkId: c.chunkId, score: terms.filter((t) => c.text.toLowerCase().includes(t)).length }))
        .filter((h) => h.score > 0)
        .sort((a, b) => b.score - a.score);
    const store = fakeStore(chunks, { lexical });
    const report = "renderFrame drops the alpha\n\nlog: worker queue retry spooler heartbeat shard worker queue retry spooler heartbeat shard";
    const rank = (rankingOff: RankingFeature[]) => rankChunks(store, { prompt: report, hotPaths: [], rankingOff }, [], () => {});
    const on = await rank([]);
    expect(on.fileOrder[0]).toBe("src/render.ts");
    expect([...(on.ranked.get("r")?.reasons ?? [])]).toContain("title match");
    const off = await rank(["title"]);
    expect(off.fileOrder[0]).toBe("src/log.ts");
    expect([...(off.ranked.get("r")?.reasons ?? [])]).not.toContain("title match");
  });

  it("looks up the definitions of plain-word members, macros and attributes the prompt's prose uses, not of a path's or a host's part", async () => {
    const chunks = [
      body("where", "xarray/core/computation.py", 1, ["def where(cond, x, y):"]),
      body("spawn", "tokio/src/task/spawn.rs", 1, ["pub fn spawn<F>(future: F) {}"]),
      body("lib", "src/lib.py", 1, ["def cfg(): pass", "def com(): pass"]),
      body("select", "tokio/src/macros/select.rs", 1, ["macro_rules! select {"]),
      body("instrument", "tracing-attributes/src/lib.rs", 1, ["pub fn instrument(args: TokenStream) {}"]),
    ];
    const defined = new Map([
      ["where", "where"],
      ["spawn", "spawn"],
      ["select", "select"],
      ["instrument", "instrument"],
      ["cfg", "lib"],
      ["send", "lib"],
      ["com", "lib"],
    ]);
    const asked: string[][] = [];
    const store = fakeStore(chunks, {
      definitions: (names) => {
        asked.push(names);
        return names.flatMap((n) => {
          const id = defined.get(n);
          const c = chunks.find((x) => x.chunkId === id);
          return c ? [{ path: c.path, line: c.startLine }] : [];
        });
      },
    });
    const prompt =
      "`xr.where(cond, a, b)` drops attrs and tokio::spawn hangs in select! { .. } under #[tracing::instrument]; see setup.cfg and https://example.com/where\n\n```js\nres.send(await thing());\n```\n";
    const ranking = await rankChunks(store, { prompt, hotPaths: [], rankingOff: [] }, [], () => {});
    expect(asked[0]).toEqual(expect.arrayContaining(["where", "spawn", "select", "instrument"]));
    expect(asked[0]).not.toContain("cfg");
    expect(asked[0]).not.toContain("com");
    // A call in the report's example code is not looked up.
    expect(asked[0]).not.toContain("send");
    expect(ranking.fileOrder.slice(0, 4).sort()).toEqual([
      "tokio/src/macros/select.rs",
      "tokio/src/task/spawn.rs",
      "tracing-attributes/src/lib.rs",
      "xarray/core/computation.py",
    ]);
    expect([...(ranking.ranked.get("where")?.reasons ?? [])]).toContain("symbol definition");
    expect(ranking.chunksByFile.has("src/lib.py")).toBe(false);
  });

  it("finds the nearest package manifest above each top file, once each", () => {
    const files = new Set(["Cargo.toml", "tokio/Cargo.toml", "go.mod", "web/package.json", "web/src/pyproject.toml"]);
    const existing = (ps: string[]) => new Set(ps.filter((p) => files.has(p)));
    expect(nearestManifests(["tokio/src/io/ready.rs", "tokio/src/lib.rs", "web/app/main.ts", "src/main.rs", "README.md"], existing)).toEqual([
      "tokio/Cargo.toml",
      "web/package.json",
      "Cargo.toml",
    ]);
    expect(nearestManifests(["web/src/x.py", "web/src/y.py"], existing)).toEqual(["web/src/pyproject.toml"]);
    expect(nearestManifests(["a/b.ts"], () => new Set())).toEqual([]);
  });

  it("credits the manifest of the best files' package, unless switched off", async () => {
    const chunks = [body("r", "crates/printer/src/util.rs", 1, ["fn replace() {}"]), body("m", "crates/printer/Cargo.toml", 1, ["[dependencies]"])];
    const store = fakeStore(chunks, { lexical: () => [{ chunkId: "r", score: 3 }] });
    const rank = (rankingOff: RankingFeature[]) => rankChunks(store, { prompt: "replace is wrong", hotPaths: [], rankingOff }, [], () => {});
    expect((await rank([])).fileOrder).toEqual(["crates/printer/src/util.rs", "crates/printer/Cargo.toml"]);
    expect([...((await rank([])).ranked.get("m")?.reasons ?? [])]).toEqual(["package manifest"]);
    expect((await rank(["manifests"])).fileOrder).toEqual(["crates/printer/src/util.rs"]);
  });
});
