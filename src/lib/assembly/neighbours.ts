/**
 * Neighbours: files beside the best files that the ranking missed or put far down. The small files in a best
 * file's directory (a root's .gitignore beside its manifest, a module beside the ones the report names) and the
 * files named like a best file elsewhere (`adapters/toctree.py` beside `collectors/toctree.py`, `balancer/base/
 * balancer.go` beside `balancer/balancer.go`) and the small files a best file links to (imports, or uses a name
 * of: `serviceconfig/serviceconfig.go` from `clientconn.go`) get a first turn at a share of that best file's score,
 * when that is more than their own; so do the project's settings (`.cargo/config.toml`, CI workflows), at a share of
 * the best file's.
 */
import { directoryOf, nameOf } from "../retrieval/directory";
import { isSourceCode, type PathKind, pathKind } from "../retrieval/path-kind";
import type { Tokenizer } from "../tokenizer";
import type { Ranking } from "./rank";
import type { NeighbourReason, RetrievalStore } from "./types";

// The best files whose directories, names and links bring neighbours.
export const NEIGHBOUR_FILES = 10;
// A directory neighbour's share of the score of the best file it is beside, and a namesake's of the file it is named
// like (a file of the same name and kind says more than a small file beside it).
export const NEIGHBOUR_SHARE = 0.3;
export const NAMESAKE_SHARE = 0.5;
// In a directory, the n-th small file in path order (counting from 0) gets NEIGHBOUR_SHARE * EASE / (EASE + n): a
// directory of many small files does not flood the context.
export const NEIGHBOUR_EASE = 8;
// A name more files have than this (mod.rs, __init__.py, index.ts) says nothing.
export const NAMESAKES_MAX = 4;
// A file a little larger than a small one (up to LARGER_TOKENS: a directory neighbour or a setting) comes too, as its
// first piece, after the small ones in its directory's order and at LARGER_SHARE of the share they get.
export const LARGER_TOKENS = 3000;
export const LARGER_SHARE = 0.5;
// The project's settings (its root's small files and its dot-directories': `.cargo/config.toml`, CI workflows,
// `.gitignore`; neither source code nor prose) get SETTINGS_SHARE of the best file's score, eased like a directory's
// small files: a change must build and pass CI with them, so a large context holds them.
export const SETTINGS_SHARE = 0.3;
// The small files of its own kind a best file links to get IMPORTED_SHARE of its score, eased in path order: a link
// credits a file far down the ranking (its share of a link signal, among 40 linked files), while a small file a best
// file imports is often what the change touches with it.
export const IMPORTED_SHARE = 0.3;
const NOT_SETTINGS: ReadonlySet<PathKind> = new Set(["test", "docs", "changelog", "manual", "generated", "translation", "example"]);
const PROSE = /\.(md|mdx|rst|txt|adoc|html?)$|(^|\/)(license|licence|copying|notice|authors|contributors|codeowners|unlicense|readme)[^/]*$/i;

/** A file's first turn beside the best files: its best ranked chunk or else its first, at `priority`. */
export type Neighbour = { path: string; chunkId: string; priority: number; reason: NeighbourReason };

/** The neighbours of the NEIGHBOUR_FILES best files (beside, named like, linked from them) and the settings; `smallTokens`: the most a file taken whole holds. */
export function neighboursOf(store: RetrievalStore, ranking: Ranking, tokenizer: Tokenizer, smallTokens: number): Neighbour[] {
  const dirScores = new Map<string, number>();
  const names = new Map<string, { score: number; kind: PathKind }>();
  const bestFiles = ranking.fileOrder.slice(0, NEIGHBOUR_FILES);
  for (const path of bestFiles) {
    const score = ranking.fileScores.get(path) ?? 0;
    if (!dirScores.has(directoryOf(path))) dirScores.set(directoryOf(path), score);
    if (!names.has(nameOf(path))) names.set(nameOf(path), { score, kind: pathKind(path) });
  }
  const own = (path: string): number => ranking.fileScores.get(path) ?? 0;
  const raised = new Map<string, { priority: number; reason: NeighbourReason }>();
  const raise = (path: string, priority: number, reason: NeighbourReason): void => {
    if (priority > Math.max(own(path), raised.get(path)?.priority ?? 0)) raised.set(path, { priority, reason });
  };

  const beside = store.filesIn([...dirScores.keys()]);
  const top = store.filesAtTop().filter((p) => !isSourceCode(p) && !PROSE.test(p) && !NOT_SETTINGS.has(pathKind(p)));
  const links = store.linksFrom(bestFiles);
  const tokens = store.fileTokens([...new Set([...beside, ...top, ...links.map((l) => l.to)])], tokenizer);
  const size = (p: string): number => tokens.get(p) ?? Number.POSITIVE_INFINITY;
  // The small files in path order, then the larger ones in path order.
  const bySize = (paths: string[]): string[] => [
    ...paths.filter((p) => size(p) <= smallTokens),
    ...paths.filter((p) => size(p) > smallTokens && size(p) <= LARGER_TOKENS),
  ];
  const eased = (share: number, n: number, path: string): number =>
    ((share * NEIGHBOUR_EASE) / (NEIGHBOUR_EASE + n)) * (size(path) <= smallTokens ? 1 : LARGER_SHARE);
  const nth = new Map<string, number>();
  for (const path of bySize(beside)) {
    const dir = directoryOf(path);
    const n = nth.get(dir) ?? 0;
    nth.set(dir, n + 1);
    raise(path, eased(NEIGHBOUR_SHARE, n, path) * (dirScores.get(dir) ?? 0), "directory neighbour");
  }

  for (const [n, path] of bySize(top).entries()) raise(path, eased(SETTINGS_SHARE, n, path) * own(bestFiles[0] ?? ""), "project settings");

  for (const from of bestFiles) {
    const kind = pathKind(from);
    const linked = links.filter((l) => l.from === from && pathKind(l.to) === kind && size(l.to) <= smallTokens);
    for (const [n, { to }] of linked.entries()) raise(to, eased(IMPORTED_SHARE, n, to) * own(from), "imported file");
  }

  const named = store.filesNamed([...names.keys()]);
  const counts = new Map<string, number>();
  for (const p of named) counts.set(nameOf(p), (counts.get(nameOf(p)) ?? 0) + 1);
  for (const path of named) {
    const like = names.get(nameOf(path));
    if (like && (counts.get(nameOf(path)) ?? 0) <= NAMESAKES_MAX && pathKind(path) === like.kind) raise(path, NAMESAKE_SHARE * like.score, "namesake");
  }

  // A ranked file's first turn is its best chunk; an unranked one's, its first.
  const bestOf = (path: string): string | undefined => ranking.chunksByFile.get(path)?.[0];
  const firstChunks = new Map<string, string>();
  for (const c of store.chunksOfPaths([...raised.keys()].filter((p) => !bestOf(p)))) if (!firstChunks.has(c.path)) firstChunks.set(c.path, c.chunkId);
  return [...raised].flatMap(([path, r]) => {
    const chunkId = bestOf(path) ?? firstChunks.get(path);
    return chunkId ? [{ path, chunkId, ...r }] : [];
  });
}
