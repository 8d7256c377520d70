import { describe, expect, it } from "vitest";
import { assembleContext } from "../../src/lib/assembly/assemble";
import { safetyMargin, TokenBudget } from "../../src/lib/assembly/budget";
import {
  IMPORTED_SHARE,
  LARGER_SHARE,
  LARGER_TOKENS,
  NAMESAKE_SHARE,
  NAMESAKES_MAX,
  NEIGHBOUR_EASE,
  NEIGHBOUR_SHARE,
  neighboursOf,
  SETTINGS_SHARE,
} from "../../src/lib/assembly/neighbours";
import {
  BOUNDED_PIECE_TOKENS,
  ChunkLoader,
  DEEP_FILES,
  FIRST_PIECE_TOKENS,
  SnippetList,
  TOP_CHUNK_FILES,
  TOP_CHUNK_SHARE,
  TOP_WHOLE_FILES,
  turnsOf,
  WHOLE_FILE_TOKENS,
} from "../../src/lib/assembly/pack";
import { asPiece } from "../../src/lib/assembly/pieces";
import type { Ranking } from "../../src/lib/assembly/rank";
import type { ChunkBody } from "../../src/lib/assembly/types";
import { AppError } from "../../src/lib/errors";
import { body, fakeStore } from "./support";

const request = { prompt: "p", budget: 16_000, hotPaths: [], tokenizer: "cl100k_base" as const, conversation: [], includeText: true };

/** Every line the pieces hold, in order, a line held twice listed twice. */
const linesOf = (pieces: { startLine: number; endLine: number }[]): number[] =>
  pieces.flatMap((p) => Array.from({ length: p.endLine - p.startLine + 1 }, (_, i) => p.startLine + i)).sort((a, b) => a - b);

describe("the token budget", () => {
  it("reserves a margin that scales down with small budgets", () => {
    expect(safetyMargin(500_000)).toBe(2000);
    expect(safetyMargin(16_000)).toBe(64);
  });

  it("starts with the fixed blocks taken and refuses a prompt that alone exceeds it", () => {
    const b = TokenBudget.forRequest(request);
    expect(b.limit).toBe(16_000 - 64);
    expect(b.used).toBeGreaterThan(0);
    expect(b.fits(b.limit - b.used)).toBe(true);
    expect(b.fits(b.limit - b.used + 1)).toBe(false);
    let error: unknown;
    try {
      TokenBudget.forRequest({ ...request, budget: 100, prompt: "word ".repeat(200) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 400, code: "prompt_too_long" });
  });
});

describe("pack", () => {
  it("charges the section header with the first snippet only, refuses what does not fit, and adds a piece once", () => {
    const budget = new TokenBudget(1000, "cl100k_base");
    budget.used = 1000 - 4 - 60; // 60 tokens free under the limit
    const list = new SnippetList(budget, 5);
    const a = asPiece(body("a", "f.ts", 1, ["x".repeat(19)])); // block 30
    const big = asPiece(body("b", "f.ts", 2, ["y".repeat(39)])); // block 50
    expect(list.add(a, 1, ["lexical match"])).toBe(true);
    expect(budget.used).toBe(1000 - 4 - 60 + 35);
    expect(list.add(a, 1, ["lexical match"])).toBe(true);
    expect(list.items).toHaveLength(1);
    expect(list.add(big, 0.5, ["vector match"])).toBe(false);
    expect(list.included).toEqual(new Set(["a:1", "a"]));
  });

  it("cuts a piece that does not fit to the line prefix that does, and says the budget is spent", () => {
    const budget = new TokenBudget(100_000, "cl100k_base");
    const long = body(
      "big",
      "big.ts",
      1,
      Array.from({ length: 50 }, (_, i) => `line ${i} ${"z".repeat(40)}`),
    );
    budget.used = budget.limit - 400;
    const list = new SnippetList(budget, 0);
    const store = fakeStore([long]);
    expect(list.addOrCut({ ...asPiece(long), block: 5000 }, 0.9, ["lexical match"], new ChunkLoader(store, { tokenizer: "cl100k_base" }))).toBe(false);
    const [prefix] = list.items;
    expect(prefix?.piece.startLine).toBe(1);
    expect(prefix?.piece.endLine).toBeLessThan(50);
    expect(long.text.startsWith(prefix?.piece.text ?? "-")).toBe(true);
    expect(budget.fits(0)).toBe(true);
  });
});

describe("reading ahead", () => {
  it("reads chunks about as far as the budget reaches, not a doubled batch past it", async () => {
    // 300 files of three chunks of about 900 tokens each, every chunk a lexical hit, best files first.
    const chunks = Array.from({ length: 300 }, (_, f) =>
      Array.from({ length: 3 }, (_, o) =>
        body(
          `c${f}_${o}`,
          `src/f${String(f).padStart(3, "0")}.ts`,
          1 + o * 100,
          Array.from({ length: 100 }, (_, l) => `const value${l} = parseRequest(header${f}, ${l});`),
          o,
        ),
      ),
    ).flat();
    const read = new Set<string>();
    const store = fakeStore(chunks, {
      lexical: () => chunks.map((c, i) => ({ chunkId: c.chunkId, score: chunks.length - i })),
      loadChunks: (ids) => {
        for (const id of ids) read.add(id);
        return ids.flatMap((id) => chunks.filter((c) => c.chunkId === id));
      },
    });
    for (let budget = 20_000; budget <= 400_000; budget += 20_000) {
      read.clear();
      const res = await assembleContext(store, { ...request, prompt: "parseRequest fails on header", budget, includeText: false });
      const packed = new Set(res.contextPieces.filter((p) => p.kind === "chunk").map((p) => p.chunkId));
      for (const id of packed) expect(read.has(id)).toBe(true);
      // Doubling batches (16, 32, 64, 128, 256 turns) read up to twice what packing took.
      expect(read.size, `chunks read at ${budget}`).toBeLessThanOrEqual(Math.ceil(packed.size * 1.25) + 16);
    }
  });
});

describe("the best files' other chunks", () => {
  it("come no later than a share of their file's score; past the best files, at half their own", () => {
    // TOP_CHUNK_FILES + 1 files, each with a strong chunk and a weak one; then a file whose one chunk scores
    // below TOP_CHUNK_SHARE of theirs and above half a weak chunk's.
    const top = Array.from({ length: TOP_CHUNK_FILES + 1 }, (_, i) => ({ path: `f${i}.py`, best: 1 - i / 100, weak: 0.01 }));
    const late = (TOP_CHUNK_SHARE * 0.9) / 2;
    const files: [string, [string, number][]][] = [
      ...top.map(({ path, best, weak }): [string, [string, number][]] => [
        path,
        [
          [`${path}#best`, best],
          [`${path}#weak`, weak],
        ],
      ]),
      ["late.py", [["late.py#best", late]]],
    ];
    const ranking: Ranking = {
      ranked: new Map(files.flatMap(([, chunks]) => chunks.map(([id, score]) => [id, { score, reasons: new Set<never>() }]))),
      hot: new Set(),
      namedLines: new Map(),
      terms: { query: [], title: [] },
      fileOrder: files.map(([path]) => path),
      fileScores: new Map(files.map(([path, chunks]) => [path, chunks[0]?.[1] ?? 0])),
      chunksByFile: new Map(files.map(([path, chunks]) => [path, chunks.map(([id]) => id)])),
    };
    const turns = turnsOf(ranking).filter((t) => t.kind !== "left out");
    const at = (id: string, kind: string) => turns.findIndex((t) => t.chunkId === id && t.kind === kind);
    const lateFirst = at("late.py#best", "first");
    for (const { path } of top.slice(0, TOP_CHUNK_FILES)) expect(at(`${path}#weak`, "chunk"), path).toBeLessThan(lateFirst);
    expect(at(`f${TOP_CHUNK_FILES}.py#weak`, "chunk")).toBeGreaterThan(lateFirst);
  });
});

describe("bounded pieces past the best files", () => {
  it("deepens the best files in whole pieces, and past them takes the lines around the excerpt first and the far lines last", async () => {
    // DEEP_FILES + 5 files of one chunk each (about 6,000 tokens), best first; one line of each names the prompt's term.
    const files = DEEP_FILES + 5;
    const chunks = Array.from({ length: files }, (_, f) =>
      body(
        `c${f}`,
        `src/f${String(f).padStart(2, "0")}.ts`,
        1,
        Array.from({ length: 500 }, (_, l) =>
          l === 250 ? `export function parseRequest${f}(header) { return header; }` : `const value${l} = compute(input${f}, ${l});`,
        ),
      ),
    );
    const store = fakeStore(chunks, { lexical: () => chunks.map((c, i) => ({ chunkId: c.chunkId, score: files - i })) });
    const res = await assembleContext(store, { ...request, prompt: "parseRequest fails", budget: 400_000, includeText: false });
    const pieces = res.contextPieces.filter((p) => p.kind === "chunk");
    const of = (path: string) => pieces.map((p, at) => ({ ...p, at })).filter((p) => p.sourcePath === path);
    for (const c of chunks) {
      // Everything fits: every line of every file is in, once.
      expect(linesOf(of(c.path))).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    }
    // A best file: its excerpt, then the rest of its chunk at once (the lines before and after it).
    const top = of(chunks[0]?.path as string);
    expect(top).toHaveLength(3);
    expect(top[1]?.at).toBe((top[2]?.at as number) - 1);
    // A file past them: its excerpt; then about BOUNDED_PIECE_TOKENS around it; then the far lines, after every
    // other file's nearer lines.
    const [first, ...later] = of(chunks[DEEP_FILES + 2]?.path as string);
    expect(first?.startLine).toBeLessThanOrEqual(251);
    expect(first?.endLine).toBeGreaterThanOrEqual(251);
    expect(later).toHaveLength(4);
    const near = later.slice(0, 2);
    const far = later.slice(2);
    expect(near.reduce((n, p) => n + p.tokenCount, 0)).toBeLessThanOrEqual(BOUNDED_PIECE_TOKENS);
    expect(near.reduce((n, p) => n + p.tokenCount, 0)).toBeGreaterThan(BOUNDED_PIECE_TOKENS / 2);
    expect(Math.min(...far.map((p) => p.startLine))).toBe(1);
    expect(Math.max(...far.map((p) => p.endLine))).toBe(500);
    const lastNear = Math.max(
      ...chunks.slice(DEEP_FILES).flatMap((c) =>
        of(c.path)
          .slice(1, 3)
          .map((p) => p.at),
      ),
    );
    expect(Math.min(...far.map((p) => p.at))).toBeGreaterThan(lastNear);
  });
});

describe("small files among the best files", () => {
  const tiers = TOP_WHOLE_FILES.map((tier, i) => ({ ...tier, next: TOP_WHOLE_FILES[i + 1]?.tokens ?? WHOLE_FILE_TOKENS }));
  it.each(tiers)("among the $files best, one over $tokens tokens comes as its best lines first and the rest later; past them, whole", async (tier) => {
    // tier.files + 1 files of one chunk each, between the tier's size and the next one's (a token a character
    // here), best first; one line of each names the prompt's term.
    const files = tier.files + 1;
    const lineCount = Math.round((tier.tokens + tier.next) / 2 / 37);
    const term = Math.floor(lineCount / 2);
    const chunks = Array.from({ length: files }, (_, f) =>
      body(
        `c${f}`,
        `src/f${String(f).padStart(2, "0")}.ts`,
        1,
        Array.from({ length: lineCount }, (_, l) =>
          l === term ? `export function parseRequest${f}(header) { return header; }` : `const value${String(l).padStart(3, "0")} = compute(input${f});`,
        ),
      ),
    );
    for (const c of chunks) {
      expect(c.tokens).toBeGreaterThan(tier.tokens);
      expect(c.tokens).toBeLessThanOrEqual(tier.next);
    }
    const store = fakeStore(chunks, { lexical: () => chunks.map((c, i) => ({ chunkId: c.chunkId, score: files - i })) });
    const res = await assembleContext(store, { ...request, prompt: "parseRequest fails", budget: 400_000, includeText: false });
    const pieces = res.contextPieces.filter((p) => p.kind === "chunk");
    const of = (path: string) => pieces.filter((p) => p.sourcePath === path);
    // The last of the tier's files: the window around its term line first, then its other lines.
    const [first, ...rest] = of(chunks[files - 2]?.path as string);
    expect(first?.startLine).toBeGreaterThan(1);
    expect(first?.startLine).toBeLessThanOrEqual(term + 1);
    expect(first?.endLine).toBeGreaterThanOrEqual(term + 1);
    expect(first?.tokenCount).toBeLessThanOrEqual(FIRST_PIECE_TOKENS);
    expect(rest.length).toBeGreaterThan(0);
    expect(linesOf(of(chunks[files - 2]?.path as string))).toEqual(Array.from({ length: lineCount }, (_, i) => i + 1));
    // The file past them: whole, in one piece.
    expect(of(chunks[files - 1]?.path as string).map((p) => [p.startLine, p.endLine])).toEqual([[1, lineCount]]);
  });
});

describe("a line longer than a first piece", () => {
  it("takes no first turn: the files after it come first, and the line comes whole later", async () => {
    // The best file is one minified line of about 8,000 tokens; the three after it are small.
    const line = `var parseRequest=function(h){${Array.from({ length: 2500 }, (_, i) => `h.v${i}=${i};`).join("")}};`;
    const chunks = [
      body("m", "src/request.js", 1, [line]),
      ...[1, 2, 3].map((f) => body(`s${f}`, `src/s${f}.ts`, 1, [`export function parseRequest${f}(header) {`, "  return header;", "}"])),
    ];
    const store = fakeStore(chunks, { lexical: () => chunks.map((c, i) => ({ chunkId: c.chunkId, score: 10 - i })) });
    const paths = async (budget: number) =>
      (await assembleContext(store, { ...request, prompt: "parseRequest fails", budget, includeText: false })).contextPieces
        .filter((p) => p.kind === "chunk")
        .map((p) => [p.sourcePath, p.startLine, p.endLine]);
    // Where the line would not fit whole, the small files still come (a cut of it as a first piece stopped packing).
    expect(await paths(4000)).toEqual([
      ["src/s1.ts", 1, 3],
      ["src/s2.ts", 1, 3],
      ["src/s3.ts", 1, 3],
    ]);
    // With room for it, it comes whole, after them.
    expect(await paths(40_000)).toEqual([
      ["src/s1.ts", 1, 3],
      ["src/s2.ts", 1, 3],
      ["src/s3.ts", 1, 3],
      ["src/request.js", 1, 1],
    ]);
  });
});

/** `n` lines of a generated table (a file of many tokens). */
const tableLines = (n: number): string[] => Array.from({ length: n }, (_, i) => `export const TABLE_${i} = [${i}, ${i + 1}, ${i + 2}];`);

describe("directory neighbours", () => {
  it("bring the small files no signal ranked from the best files' directories, whole and labelled; not big ones, not other directories", async () => {
    // Two ranked files; beside the best, a small file and a big one no signal ranked; a small one elsewhere.
    const chunks = [
      body("a", "src/parse.ts", 1, ["export function parseHeader(h) {", "  return h;", "}"]),
      body("b", "lib/util.ts", 1, ["export function parseHeaderValue(v) {", "  return v;", "}"]),
      body("n", "src/flags.ts", 1, ["export const STRICT = true;"]),
      body("big", "src/tables.ts", 1, tableLines(100)),
      body("far", "docs/notes.md", 1, ["Release notes."]),
    ];
    const store = fakeStore(chunks, {
      lexical: () => [
        { chunkId: "a", score: 10 },
        { chunkId: "b", score: 5 },
      ],
    });
    const all = (await assembleContext(store, { ...request, prompt: "parseHeader fails", budget: 16_000, includeText: false })).contextPieces
      .filter((p) => p.kind === "chunk")
      .map((p) => [p.sourcePath, p.reasons.join(",")]);
    // The neighbour comes after the ranked files, labelled; the big file beside them and the small one elsewhere
    // come only with fill, labelled as fill.
    expect(all.slice(0, 3).map(([path]) => path)).toEqual(["src/parse.ts", "lib/util.ts", "src/flags.ts"]);
    expect(all[2]?.[1]).toBe("directory neighbour");
    for (const [path, reasons] of all.slice(3)) expect([path, reasons]).toEqual([path, "budget fill"]);
  });
});

/** A ranking of whole files, each one chunk, at the given scores (best first). */
function rankingOf(files: [string, number][], chunks: ChunkBody[]): Ranking {
  const idOf = (path: string): string => chunks.find((c) => c.path === path)?.chunkId ?? "";
  return {
    ranked: new Map(files.map(([path, score]) => [idOf(path), { score, reasons: new Set<never>() }])),
    hot: new Set(),
    namedLines: new Map(),
    terms: { query: [], title: [] },
    fileOrder: files.map(([path]) => path),
    fileScores: new Map(files),
    chunksByFile: new Map(files.map(([path]) => [path, [idOf(path)]])),
  };
}

describe("the files beside the best files", () => {
  // The best file src/parse.ts; beside it a file a weak signal ranked, two small files no signal ranked and a big one;
  // files named like it elsewhere: code, a test, and a name too common to mean anything.
  const small = (id: string, path: string) => body(id, path, 1, [`export const ${id.replaceAll(/\W/g, "_")} = 1;`]);
  const chunks = [
    small("parse", "src/parse.ts"),
    small("weak", "src/weak.ts"),
    small("a", "src/a.ts"),
    small("b", "src/b.ts"),
    body("big", "src/big.ts", 1, tableLines(200)),
    body("mid", "src/mid.ts", 1, tableLines(65)),
    small("other", "server/parse.ts"),
    small("test", "test/parse.ts"),
    ...Array.from({ length: NAMESAKES_MAX + 1 }, (_, i) => small(`index${i}`, `m${i}/index.ts`)),
  ];
  const files: [string, number][] = [
    ["src/parse.ts", 1],
    ["m0/index.ts", 0.6],
    ["src/weak.ts", 0.01],
  ];
  const ranking = rankingOf(files, chunks);
  const eased = (nth: number) => (NEIGHBOUR_SHARE * NEIGHBOUR_EASE) / (NEIGHBOUR_EASE + nth);

  it("come at a share of the best file's score beside them, less for each one more in a directory; namesakes of the same kind", () => {
    const store = fakeStore(chunks);
    const sizes = store.fileTokens(["src/mid.ts", "src/big.ts"], "cl100k_base");
    expect(sizes.get("src/mid.ts")).toBeGreaterThan(2000);
    expect(sizes.get("src/mid.ts")).toBeLessThanOrEqual(LARGER_TOKENS);
    expect(sizes.get("src/big.ts")).toBeGreaterThan(LARGER_TOKENS);
    const neighbours = neighboursOf(store, ranking, "cl100k_base", 2000);
    expect(Object.fromEntries(neighbours.map((n) => [n.path, [n.priority, n.reason]]))).toEqual({
      // In path order: a.ts, b.ts, parse.ts (the best file itself), weak.ts; then the larger mid.ts, at a smaller
      // share; big.ts is too big.
      "src/a.ts": [eased(0), "directory neighbour"],
      "src/b.ts": [eased(1), "directory neighbour"],
      "src/weak.ts": [eased(3), "directory neighbour"],
      "src/mid.ts": [eased(4) * LARGER_SHARE, "directory neighbour"],
      "server/parse.ts": [NAMESAKE_SHARE, "namesake"],
    });
    // A ranked neighbour's first turn is its best chunk.
    expect(neighbours.find((n) => n.path === "src/weak.ts")?.chunkId).toBe("weak");
  });

  it("raise a ranked file's first turn to their share, once, and bring an unranked one with its first chunk", () => {
    const neighbours = neighboursOf(fakeStore(chunks), ranking, "cl100k_base", 2000);
    const firsts = turnsOf(ranking, neighbours).filter((t) => t.kind === "first");
    expect(firsts.map((t) => [t.path, t.priority])).toEqual([
      ["src/parse.ts", 1],
      ["m0/index.ts", 0.6],
      ["server/parse.ts", NAMESAKE_SHARE],
      ["src/a.ts", eased(0)],
      ["src/b.ts", eased(1)],
      ["src/weak.ts", eased(3)],
      ["src/mid.ts", eased(4) * LARGER_SHARE],
    ]);
  });
});

describe("the project's settings", () => {
  const line = (id: string, path: string) => body(id, path, 1, [`${id.replaceAll(/\W/g, "_")} = 1`]);
  // The best file deep in the tree; at the top: settings, prose and a big file.
  const chunks = [
    line("best", "crates/core/main.rs"),
    line("cargo", ".cargo/config.toml"),
    line("template", ".github/ISSUE_TEMPLATE/bug_report.md"),
    line("ci", ".github/workflows/ci.yml"),
    body(
      "release",
      ".github/workflows/release.yml",
      1,
      Array.from({ length: 45 }, (_, i) => `      - run: cargo build --target target-${i} --jobs ${i + 1}`),
    ),
    line("ignore", ".gitignore"),
    line("manifest", "Cargo.toml"),
    line("licence", "LICENSE-MIT"),
    line("readme", "README.md"),
    line("build", "build.rs"),
    body(
      "big",
      "Makefile",
      1,
      Array.from({ length: 400 }, (_, i) => `target_${i}: ; echo ${i} ${i + 1} ${i + 2}`),
    ),
    line("nested", "crates/cli/rustfmt.toml"),
    line("tests", "tests/misc.rs"),
  ];
  const files: [string, number][] = [["crates/core/main.rs", 1]];
  const ranking = rankingOf(files, chunks);
  const eased = (nth: number) => (SETTINGS_SHARE * NEIGHBOUR_EASE) / (NEIGHBOUR_EASE + nth);

  it("come at a share of the best file's score, eased in path order: the root's small files and its dot-directories', neither code nor prose", () => {
    const store = fakeStore(chunks);
    const release = store.fileTokens([".github/workflows/release.yml"], "cl100k_base").get(".github/workflows/release.yml");
    expect(release).toBeGreaterThan(2000);
    expect(release).toBeLessThanOrEqual(LARGER_TOKENS);
    const neighbours = neighboursOf(store, ranking, "cl100k_base", 2000).filter((n) => n.reason === "project settings");
    expect(neighbours.map((n) => [n.path, n.priority])).toEqual([
      [".cargo/config.toml", eased(0)],
      [".github/workflows/ci.yml", eased(1)],
      [".gitignore", eased(2)],
      ["Cargo.toml", eased(3)],
      // After the small ones, a larger one at a smaller share (build.rs is code, not a setting).
      [".github/workflows/release.yml", eased(4) * LARGER_SHARE],
    ]);
  });

  it("are labelled in the context, after the best file; code, prose and the big file come only with fill", async () => {
    const store = fakeStore(chunks, { lexical: () => [{ chunkId: "best", score: 10 }] });
    // Without the package manifest's signal, which would rank the root Cargo.toml on its own.
    const req = { ...request, prompt: "best", budget: 16_000, includeText: false, rankingOff: ["manifests" as const] };
    const pieces = (await assembleContext(store, req)).contextPieces.filter((p) => p.kind === "chunk");
    expect(pieces.map((p) => [p.sourcePath, p.reasons.join(",")])).toEqual([
      ["crates/core/main.rs", "lexical match,error message"],
      [".cargo/config.toml", "project settings"],
      [".github/workflows/ci.yml", "project settings"],
      [".gitignore", "project settings"],
      ["Cargo.toml", "project settings"],
      [".github/workflows/release.yml", "project settings"],
      ...[".github/ISSUE_TEMPLATE/bug_report.md", "LICENSE-MIT", "README.md", "build.rs", "Makefile", "crates/cli/rustfmt.toml", "tests/misc.rs"].map(
        (path) => [path, "budget fill"],
      ),
    ]);
  });
});

describe("the small files a best file links to", () => {
  const line = (id: string, path: string) => body(id, path, 1, [`export const ${id} = 1;`]);
  // Two best files in different directories; what they link to: small code files, a big one, a test.
  const chunks = [
    line("client", "src/client.ts"),
    line("server", "srv/server.ts"),
    line("config", "lib/config.ts"),
    line("util", "lib/util.ts"),
    line("shared", "core/shared.ts"),
    line("spec", "test/client.test.ts"),
    body("tables", "lib/tables.ts", 1, tableLines(200)),
  ];
  const links = [
    { from: "src/client.ts", to: "core/shared.ts" },
    { from: "src/client.ts", to: "lib/config.ts" },
    { from: "src/client.ts", to: "lib/tables.ts" },
    { from: "src/client.ts", to: "test/client.test.ts" },
    { from: "srv/server.ts", to: "core/shared.ts" },
    { from: "srv/server.ts", to: "lib/util.ts" },
  ];
  const ranking = rankingOf(
    [
      ["src/client.ts", 1],
      ["srv/server.ts", 0.8],
    ],
    chunks,
  );
  const eased = (nth: number) => (IMPORTED_SHARE * NEIGHBOUR_EASE) / (NEIGHBOUR_EASE + nth);

  it("come at a share of the score of the best file linking them, eased in path order; of its kind and small only", () => {
    const store = fakeStore(chunks, { linksFrom: (paths) => links.filter((l) => paths.includes(l.from)) });
    const neighbours = neighboursOf(store, ranking, "cl100k_base", 2000).filter((n) => n.reason === "imported file");
    expect(Object.fromEntries(neighbours.map((n) => [n.path, n.priority]))).toEqual({
      // The better file's share wins for a file both link to.
      "core/shared.ts": eased(0),
      "lib/config.ts": eased(1),
      "lib/util.ts": eased(1) * 0.8,
    });
  });

  it("are labelled in the context after the best files", async () => {
    const store = fakeStore(chunks, {
      lexical: () => [
        { chunkId: "client", score: 10 },
        { chunkId: "server", score: 5 },
      ],
      linksFrom: (paths) => links.filter((l) => paths.includes(l.from)),
    });
    const pieces = (await assembleContext(store, { ...request, prompt: "client", budget: 16_000, includeText: false })).contextPieces.filter(
      (p) => p.kind === "chunk",
    );
    expect(pieces.slice(0, 5).map((p) => [p.sourcePath, p.reasons.includes("imported file")])).toEqual([
      ["src/client.ts", false],
      ["srv/server.ts", false],
      ["core/shared.ts", true],
      ["lib/config.ts", true],
      ["lib/util.ts", true],
    ]);
  });
});
