/**
 * Rank: every retrieval signal gives a ranked list of chunks, and weighted reciprocal-rank fusion
 * merges them into one ranking, grouped by file in order of each file's best chunk.
 */
import { kindWeights, type PathKind, pathKind } from "../retrieval/path-kind";
import type { PathMention } from "../retrieval/prompt-paths";
import { askedOnce, errorPhrases, plainWordSymbols, promptIdentifiers, queryTerms, titleOf, weighedQueryTerms } from "../retrieval/terms";
import type { ChunkMeta, RankingFeature, RankSignal, RetrievalStore, Signal } from "./types";

// Reciprocal-rank fusion: score = sum over signals of weight / (RRF_K + rank). 60 is the usual constant.
export const RRF_K = 60;
export const WEIGHTS: Record<RankSignal, number> = {
  "hot path": 4,
  "mentioned path": 2,
  "summary match": 0.6,
  "error message": 1.5,
  "symbol definition": 1.4,
  "lexical match": 1.0,
  "title match": 2.0,
  "recent change": 0.3,
  "ai feedback": 0.4,
  "vector match": 0.5,
  "symbol link": 0.5,
  "package manifest": 2,
};
// Candidate pool sizes per signal (the spec queries the vector index with top-k 500).
const LEXICAL_K = 1000;
const VECTOR_K = 500;
const VECTOR_RELATIVE_FLOOR = 0.5;
// The title's terms (a report's first line names the problem in a few words) and the chunks they find.
const TITLE_TERMS = 16;
const TITLE_K = 200;
// Chunks holding an error message the prompt quotes.
const ERROR_K = 30;
// Files whose summaries match the prompt's terms, credited as a signal.
const SUMMARY_K = 120;
// The files whose import and name links join the ranking, and how many linked files join (most linked first).
const LINKED_TOP_FILES = 8;
const LINKED_MAX = 40;
// A file-ranking signal's share for a file's chunks other than the best so far (`creditFiles`).
export const FILE_REST_SHARE = 0.5;
// The files whose package manifests join the ranking.
const MANIFEST_TOP_FILES = 5;
// What declares a package's dependencies, by ecosystem.
const MANIFESTS = ["Cargo.toml", "go.mod", "package.json", "pyproject.toml", "setup.py", "setup.cfg", "pom.xml", "build.gradle", "build.gradle.kts"];

/**
 * The nearest package manifest above each of `paths` (a change to a crate, module or package often
 * touches its dependencies, and the agent needs their versions), in the order of the paths, once each.
 */
export function nearestManifests(paths: string[], existing: (candidates: string[]) => Set<string>): string[] {
  const dirsOf = (path: string): string[] => {
    const parts = path.split("/").slice(0, -1);
    return parts.map((_, i) => parts.slice(0, parts.length - i).join("/")).concat("");
  };
  const candidates = paths.map((p) => dirsOf(p).map((d) => MANIFESTS.map((m) => (d ? `${d}/${m}` : m))));
  const found = existing([...new Set(candidates.flat(2))]);
  const out = new Set<string>();
  for (const byDir of candidates) {
    const nearest = byDir.map((ms) => ms.find((m) => found.has(m))).find((m) => m !== undefined);
    if (nearest) out.add(nearest);
  }
  return [...out];
}

export type Fused = Map<string, { score: number; reasons: Set<Signal> }>;

/** Adds one signal's vote for a chunk at a rank (0 = best), scaled by `factor`. */
export function credit(ranked: Fused, id: string, signal: RankSignal, rank: number, factor = 1): void {
  const e = ranked.get(id) ?? { score: 0, reasons: new Set<Signal>() };
  e.score += (factor * WEIGHTS[signal]) / (RRF_K + rank);
  e.reasons.add(signal);
  ranked.set(id, e);
}

/** Credits a list in order: its first item at rank 0. */
export function creditList(ranked: Fused, ids: string[], signal: RankSignal): void {
  for (const [i, id] of ids.entries()) credit(ranked, id, signal, i);
}

/** Each file's lead among `chunks`: the chunk ranked best so far, a tie (or none ranked) going to the first in the file. */
function leadChunks(ranked: Fused, chunks: ChunkMeta[]): Map<string, ChunkMeta> {
  const score = (c: ChunkMeta): number => ranked.get(c.chunkId)?.score ?? 0;
  const lead = new Map<string, ChunkMeta>();
  for (const c of chunks) {
    const l = lead.get(c.path);
    if (!l || score(c) > score(l) || (score(c) === score(l) && c.ordinal < l.ordinal)) lead.set(c.path, c);
  }
  return lead;
}

/**
 * Credits a signal that ranks files (a summary match, a link) to their chunks, each at its file's `place`: fully to
 * the chunk the other signals rank best so far (else the file's first), at FILE_REST_SHARE to the others. Every
 * chunk of a large file credited alike had its far chunks outrank the next files' best ones.
 */
export function creditFiles(
  ranked: Fused,
  chunks: ChunkMeta[],
  signal: RankSignal,
  place: Map<string, number>,
  factor: (path: string) => number = () => 1,
): void {
  const lead = leadChunks(ranked, chunks);
  for (const c of chunks) credit(ranked, c.chunkId, signal, place.get(c.path) ?? 0, factor(c.path) * (lead.get(c.path) === c ? 1 : FILE_REST_SHARE));
}

/** Vector hits reasonably close to the best (within VECTOR_RELATIVE_FLOOR of its score), each keeping its rank. */
export function closeVectorHits(hits: { chunkId: string; score: number }[]): { chunkId: string; rank: number }[] {
  const floor = (hits[0]?.score ?? 0) * VECTOR_RELATIVE_FLOOR;
  return hits.flatMap((h, rank) => (h.score >= floor ? [{ chunkId: h.chunkId, rank }] : []));
}

/** The `n` paths whose best chunk scores highest. */
export function topPaths(ranked: Map<string, { score: number }>, meta: Map<string, ChunkMeta>, n: number): string[] {
  const best = new Map<string, number>();
  for (const [id, e] of ranked) {
    const m = meta.get(id);
    if (m) best.set(m.path, Math.max(best.get(m.path) ?? 0, e.score));
  }
  return [...best.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([p]) => p);
}

export type Ranking = {
  ranked: Fused;
  /** Hot paths that exist in the project. */
  hot: Set<string>;
  /** Files best first, by their file scores. */
  fileOrder: string[];
  /** A file's score: its best chunk's (a rerank may reorder them). */
  fileScores: Map<string, number>;
  /** Lines the prompt names, by path (traceback frames, path:line). */
  namedLines: Map<string, number[]>;
  /** Each file's ranked chunk ids, best first. */
  chunksByFile: Map<string, string[]>;
  /** The query terms the lexical search used, and the title's. */
  terms: { query: string[]; title: string[] };
};

/**
 * Ranked chunks (those with known metadata) best first, grouped by file, files in order of their best
 * chunks. Ties go by path and position, not by chunk id (which is derived from the project id), so two
 * projects holding the same tree assemble the same context. (A file's next chunks adding a share of
 * their scores to its own was measured and dropped: docs/benchmarks.md.)
 */
export function groupByFile(ranked: Fused, meta: Map<string, ChunkMeta>): Pick<Ranking, "fileOrder" | "chunksByFile" | "fileScores"> {
  const at = (id: string): ChunkMeta => meta.get(id) as ChunkMeta;
  const order = [...ranked.entries()]
    .filter(([id]) => meta.has(id))
    .sort((a, b) => b[1].score - a[1].score || at(a[0]).path.localeCompare(at(b[0]).path) || at(a[0]).ordinal - at(b[0]).ordinal || a[0].localeCompare(b[0]));
  const fileOrder: string[] = [];
  const chunksByFile = new Map<string, string[]>();
  for (const [id] of order) {
    const m = meta.get(id) as ChunkMeta;
    if (!chunksByFile.has(m.path)) {
      chunksByFile.set(m.path, []);
      fileOrder.push(m.path);
    }
    chunksByFile.get(m.path)?.push(id);
  }
  const fileScores = new Map(fileOrder.map((path) => [path, ranked.get(chunksByFile.get(path)?.[0] ?? "")?.score ?? 0]));
  return { fileOrder, chunksByFile, fileScores };
}

/** Each ranked chunk's score scaled by what its path holds (tests, docs, changelogs… weigh less unless asked for). */
export function weighByKind(ranked: Fused, meta: Map<string, ChunkMeta>, weights: Record<PathKind, number>): void {
  for (const [id, e] of ranked) {
    const m = meta.get(id);
    if (m) e.score *= weights[pathKind(m.path)];
  }
}

/**
 * One chunk of each file the prompt names, in order of mention: the chunk at the named line (a
 * traceback frame's), else the chunk the other signals rank best so far, else the file's first. Only
 * one: a traceback names every file of its stack, and lifting all their chunks would crowd out the rest.
 */
function mentionedChunks(store: RetrievalStore, mentions: PathMention[], ranked: Fused): { chunkId: string; rank: number }[] {
  const out: { chunkId: string; rank: number }[] = [];
  const chunks = store.chunksOfPaths([...new Set(mentions.map((m) => m.path))]);
  const lead = leadChunks(ranked, chunks);
  for (const [i, m] of mentions.entries()) {
    const line = m.line;
    const named = line === undefined ? undefined : chunks.find((c) => c.path === m.path && c.startLine <= line && line <= c.endLine);
    const chosen = named ?? lead.get(m.path);
    if (chosen) out.push({ chunkId: chosen.chunkId, rank: i });
  }
  return out;
}

/**
 * Runs every signal against the store and fuses them. Hot paths missing from the project become
 * warnings; `lap` marks the end of the lexical, vector and symbol stages.
 */
export async function rankChunks(
  store: RetrievalStore,
  req: { prompt: string; hotPaths: string[]; rankingOff?: RankingFeature[] | undefined },
  warnings: string[],
  lap: (stage: string) => void,
): Promise<Ranking> {
  const on = (f: RankingFeature): boolean => !req.rankingOff?.includes(f);
  const ranked: Fused = new Map();
  const ids = (chunks: ChunkMeta[]): string[] => chunks.map((c) => c.chunkId);
  const hot = store.existingPaths(req.hotPaths);
  for (const p of req.hotPaths) if (!hot.has(p)) warnings.push(`hot path "${p}" is not in the project`);
  creditList(ranked, ids(store.chunksOfPaths([...hot])), "hot path");
  const mentions = on("mentions") ? store.mentioned(req.prompt) : [];
  const namedLines = new Map<string, number[]>();
  for (const m of mentions) if (m.line !== undefined) namedLines.set(m.path, [...(namedLines.get(m.path) ?? []), m.line]);
  creditList(ranked, ids(store.chunksOfPaths(store.recentPaths(30))), "recent change");
  creditList(ranked, ids(store.chunksOfPaths(store.approvedPaths(20))), "ai feedback");
  // The title's terms are among the report's: their document counts are read once.
  const termStats = askedOnce((ts) => store.termStats(ts));
  const terms = on("idf-terms") ? weighedQueryTerms(req.prompt, termStats) : queryTerms(req.prompt);
  creditList(
    ranked,
    store.lexical(terms, LEXICAL_K).map((h) => h.chunkId),
    "lexical match",
  );
  // A report's title says the problem in few words; its body may bury them under logs and listings.
  const title = on("title") ? weighedQueryTerms(titleOf(req.prompt), termStats, TITLE_TERMS) : [];
  if (title.length)
    creditList(
      ranked,
      store.lexical(title, TITLE_K).map((h) => h.chunkId),
      "title match",
    );
  // The code that prints an error the prompt quotes.
  if (on("error-messages"))
    creditList(
      ranked,
      store.lexical(errorPhrases(req.prompt), ERROR_K).map((h) => h.chunkId),
      "error message",
    );
  // Files whose summaries (what they define, their header comments) match: a first pick among files.
  if (on("summaries")) {
    const files = store.summaryMatches(terms, SUMMARY_K).flatMap((m) => (m.level === "file" ? [m.path] : []));
    creditFiles(ranked, store.chunksOfPaths(files), "summary match", new Map(files.map((p, i) => [p, i])));
  }
  lap("lexical");
  if (on("vector")) for (const h of closeVectorHits(await store.vector(req.prompt, VECTOR_K))) credit(ranked, h.chunkId, "vector match", h.rank);
  lap("vector");
  if (on("symbols")) {
    const defs = store.definitions([...new Set([...promptIdentifiers(req.prompt), ...plainWordSymbols(req.prompt)])]);
    const defChunks = store
      .chunksOfPaths([...new Set(defs.map((d) => d.path))])
      .filter((c) => defs.some((d) => d.path === c.path && d.line >= c.startLine && d.line <= c.endLine));
    creditList(ranked, ids(defChunks), "symbol definition");
  }
  for (const m of mentionedChunks(store, mentions, ranked)) credit(ranked, m.chunkId, "mentioned path", m.rank);
  const meta = new Map(store.chunkMeta([...ranked.keys()]).map((m) => [m.chunkId, m]));
  const weights = on("kind-prior") ? kindWeights(req.prompt) : undefined;
  if (weights) weighByKind(ranked, meta, weights);
  // Files linked to the best files by imports or by the names they use are likely part of the same change.
  if (on("symbols")) {
    const linked = store.neighbors(topPaths(ranked, meta, LINKED_TOP_FILES), LINKED_MAX);
    const chunks = store.chunksOfPaths(linked);
    creditFiles(ranked, chunks, "symbol link", new Map(linked.map((p, i) => [p, i])), (p) => weights?.[pathKind(p)] ?? 1);
    for (const c of chunks) meta.set(c.chunkId, c);
  }
  if (on("manifests")) {
    const manifests = nearestManifests(topPaths(ranked, meta, MANIFEST_TOP_FILES), (ps) => store.existingPaths(ps));
    for (const c of store.chunksOfPaths(manifests)) {
      credit(ranked, c.chunkId, "package manifest", manifests.indexOf(c.path));
      meta.set(c.chunkId, c);
    }
  }
  lap("symbols");
  return { ranked, hot, namedLines, terms: { query: terms, title }, ...groupByFile(ranked, meta) };
}
