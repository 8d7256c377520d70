/** The assembler's `RetrievalStore` over the shard's SQLite: searches, chunk and summary reads, cached counts. */
import type { ChunkBody, ChunkMeta, RetrievalStore, Summary } from "../assembly/assemble";
import { directoryOf, isAtTop, nameOf } from "../retrieval/directory";
import type { Embedder } from "../retrieval/embedder";
import { mentionedPaths } from "../retrieval/prompt-paths";
import type { VectorIndex } from "../retrieval/vector-index";
import { baseEncoding, countWith, scaleToClaude, type Tokenizer } from "../tokenizer";
import type { PathLookup } from "./path-lookup";
import type { TermCountsCache } from "./term-counts-cache";
import { chunkCounts, summaryBlock } from "./token-counts";
import type { ChunkRow } from "./types";

// Recent-change groups larger than this are bulk uploads, not a signal of what someone is working on.
const RECENT_GROUP_MAX = 50;

type MetaRow = { chunk_id: string; path: string; ordinal: number; start_line: number; end_line: number };
type SummaryRow = { path: string; summary_id: string; summary: string; summary_cl: number };

const json = (xs: string[]): string => JSON.stringify(xs);
const scale = (tokenizer: Tokenizer, cl: number): number => (tokenizer === "claude" ? scaleToClaude(cl) : cl);

/** An FTS5 query matching any of the terms, each quoted as a phrase. */
export function ftsAnyOf(terms: string[]): string {
  return terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(" OR ");
}

// A name defined in more files than this (`__init__`, `new`, `String`) says nothing about which one the prompt means.
const DEFINING_FILES_MAX = 5;
/** The column of the chunk's line segment counts in the tokenizer's base encoding. */
const segsColumn = (tokenizer: Tokenizer): string => (baseEncoding(tokenizer) === "o200k_base" ? "segs_o2" : "segs_cl");

function metaOf(r: MetaRow): ChunkMeta {
  return { chunkId: r.chunk_id, path: r.path, ordinal: r.ordinal, startLine: r.start_line, endLine: r.end_line };
}

/**
 * The query for the best `?2` matches of an FTS query `?1` by `score` (lower is better), ties in `order`.
 * Matches are scored once, and only those scoring at least the `?2`-th best (ties kept, so the order stays
 * exact) are joined to their `rows` (joined on `f.r`, the match's rowid).
 */
function bestMatches(fts: string, score: string, rows: string, columns: string, order: string): string {
  return `WITH f AS MATERIALIZED (SELECT rowid AS r, ${score} AS s FROM ${fts} WHERE ${fts} MATCH ?1)
    SELECT ${columns}, f.s FROM f JOIN ${rows}
    WHERE f.s <= coalesce((SELECT s FROM f ORDER BY s LIMIT 1 OFFSET ?2 - 1), 1e308)
    ORDER BY f.s, ${order} LIMIT ?2`;
}

/** Held block keys ("chunkId:start-end") grouped by chunk id. */
export function heldRangesOf(keys: string[] | undefined): Map<string, Set<string>> {
  const byId = new Map<string, Set<string>>();
  for (const k of keys ?? []) {
    const at = k.lastIndexOf(":");
    if (at <= 0) continue;
    const id = k.slice(0, at);
    byId.set(id, (byId.get(id) ?? new Set()).add(k.slice(at + 1)));
  }
  return byId;
}

/** `modelSummaries`: read model-written summaries where they exist (default); false reads only the extractive ones. */
export type RetrievalDeps = {
  paths: () => PathLookup;
  /** Each file's tokens (cl100k_base) by path: the shard's cache of them. */
  fileTokens: () => Map<string, number>;
  /** The shard's cache of term counts (`new TermCountsCache(sql)` for a store used once). */
  termCounts: TermCountsCache;
  embedder: Embedder;
  vectors: () => VectorIndex;
  modelSummaries?: boolean;
};

/**
 * A store for one assembly: it remembers the chunk metadata it has read, and the last held-key list it parsed
 * (so pass the same array each call).
 */
export function createRetrievalStore(sql: SqlStorage, deps: RetrievalDeps): RetrievalStore {
  let heldFor: { keys: string[] | undefined; byId: Map<string, Set<string>> } = { keys: undefined, byId: new Map() };
  const heldRanges = (keys: string[] | undefined): Map<string, Set<string>> => {
    if (keys !== heldFor.keys) heldFor = { keys, byId: heldRangesOf(keys) };
    return heldFor.byId;
  };
  // Chunk metadata this store has read (searches and path lookups return it), so `chunkMeta` reads only the rest.
  const known = new Map<string, ChunkMeta>();
  const remember = (r: MetaRow): ChunkMeta => {
    let m = known.get(r.chunk_id);
    if (!m) {
      m = metaOf(r);
      known.set(r.chunk_id, m);
    }
    return m;
  };
  const model = deps.modelSummaries !== false;
  // A model-written summary of the file's current content replaces its extractive one.
  const fileSummaryColumns = model
    ? `f.path, f.summary_id, coalesce(m.content, f.summary) AS summary, coalesce(m.tokens_cl, f.summary_cl) AS summary_cl
       FROM files f LEFT JOIN model_summaries m ON m.level = 'file' AND m.sha256 = f.sha256`
    : "f.path, f.summary_id, f.summary, f.summary_cl FROM files f";
  const summaryOf = (tokenizer: Tokenizer, kind: Summary["kind"], id: string, path: string, text: string, cl: number): Summary => ({
    id,
    kind,
    path,
    text,
    tokens: tokenizer === "o200k_base" ? countWith("o200k_base", text) : scale(tokenizer, cl),
    block: summaryBlock(sql, { id, kind, path, startLine: 0, endLine: 0, text }, tokenizer),
  });
  return {
    lexical: (terms, limit) => {
      if (terms.length === 0) return [];
      return sql
        .exec<MetaRow & { s: number }>(
          bestMatches(
            "chunks_fts",
            "bm25(chunks_fts, 1.0, 4.0)",
            "chunks c ON c.rid = f.r",
            "c.chunk_id, c.path, c.ordinal, c.start_line, c.end_line",
            "c.path, c.ordinal",
          ),
          ftsAnyOf(terms),
          limit,
        )
        .toArray()
        .map((r) => ({ chunkId: remember(r).chunkId, score: -r.s }));
    },
    termStats: (terms) => deps.termCounts.get(terms),
    mentioned: (prompt) => mentionedPaths(prompt, deps.paths()),
    vector: async (prompt, limit) => {
      const [q] = await deps.embedder.embed([prompt]);
      return q ? (await deps.vectors().query(q, limit)).map((h) => ({ chunkId: h.id, score: h.score })) : [];
    },
    definitions: (names) =>
      names.length === 0
        ? []
        : sql
            .exec<{ path: string; line: number }>(
              `SELECT path, line FROM symbols WHERE kind = 'def' AND name IN (
                 SELECT name FROM symbols WHERE kind = 'def' AND name IN (SELECT value FROM json_each(?))
                 GROUP BY name HAVING count(DISTINCT path) <= ${DEFINING_FILES_MAX}
               ) ORDER BY path, line LIMIT 60`,
              json(names),
            )
            .toArray(),
    neighbors: (paths, limit) =>
      paths.length === 0
        ? []
        : sql
            .exec<{ p: string }>(
              `SELECT p FROM (
                 SELECT e.to_path AS p, 1.0 / (1 + j.key) AS w FROM edges e JOIN json_each(?1) j ON e.from_path = j.value
                 UNION ALL
                 SELECT e.from_path AS p, 1.0 / (1 + j.key) AS w FROM edges e JOIN json_each(?1) j ON e.to_path = j.value
               ) GROUP BY p ORDER BY sum(w) DESC, p LIMIT ?2`,
              json(paths),
              limit,
            )
            .toArray()
            .map((r) => r.p),
    linksFrom: (paths) =>
      sql
        .exec<{ from_path: string; to_path: string }>(
          "SELECT from_path, to_path FROM edges WHERE from_path IN (SELECT value FROM json_each(?)) ORDER BY to_path",
          json(paths),
        )
        .toArray()
        .map((r) => ({ from: r.from_path, to: r.to_path })),
    approvedPaths: (limit) => {
      const out = new Set<string>();
      for (const r of sql.exec<{ paths: string }>("SELECT paths FROM ai_feedback WHERE approved = 1 ORDER BY at DESC LIMIT ?", limit)) {
        for (const p of JSON.parse(r.paths) as string[]) if (deps.paths().set.has(p)) out.add(p);
      }
      return [...out].slice(0, limit);
    },
    recentPaths: (limit) => {
      const groups = sql
        .exec<{ changed_at: number; n: number }>("SELECT changed_at, count(*) AS n FROM files GROUP BY changed_at ORDER BY changed_at DESC LIMIT 20")
        .toArray();
      const out: string[] = [];
      for (const g of groups) {
        if (g.n > RECENT_GROUP_MAX) continue;
        for (const r of sql.exec<{ path: string }>("SELECT path FROM files WHERE changed_at = ? ORDER BY path", g.changed_at)) out.push(r.path);
        if (out.length >= limit) break;
      }
      return out.slice(0, limit);
    },
    existingPaths: (paths) => new Set(paths.filter((p) => deps.paths().set.has(p))),
    filesIn: (dirs) => {
      const wanted = new Set(dirs);
      return deps.paths().list.filter((p) => wanted.has(directoryOf(p)));
    },
    filesAtTop: () => deps.paths().list.filter(isAtTop),
    filesNamed: (names) => {
      const wanted = new Set(names);
      return deps.paths().list.filter((p) => wanted.has(nameOf(p)));
    },
    chunksOfPaths: (paths) => {
      if (paths.length === 0) return [];
      const rows = sql
        .exec<MetaRow>("SELECT chunk_id, path, ordinal, start_line, end_line FROM chunks WHERE path IN (SELECT value FROM json_each(?))", json(paths))
        .toArray();
      const order = new Map(paths.map((p, i) => [p, i]));
      return rows.map(remember).sort((a, b) => (order.get(a.path) ?? 0) - (order.get(b.path) ?? 0) || a.ordinal - b.ordinal);
    },
    chunkMeta: (ids) => {
      const unknown = ids.filter((id) => !known.has(id));
      if (unknown.length > 0)
        for (const r of sql.exec<MetaRow>(
          "SELECT chunk_id, path, ordinal, start_line, end_line FROM chunks WHERE chunk_id IN (SELECT value FROM json_each(?))",
          json(unknown),
        ))
          remember(r);
      return ids.flatMap((id) => known.get(id) ?? []);
    },
    fileTokens: (paths, tokenizer) => {
      const sizes = deps.fileTokens();
      return new Map(
        paths.flatMap((p) => {
          const tokens = sizes.get(p);
          return tokens === undefined ? [] : [[p, scale(tokenizer, tokens)]];
        }),
      );
    },
    loadChunks: (ids, tokenizer, heldKeys): ChunkBody[] => {
      if (ids.length === 0) return [];
      // A chunk whose whole block the caller holds, with its counts already known, is read without its text.
      const held = heldRanges(heldKeys);
      const skip = held.size ? ids.filter((id) => held.has(id)) : [];
      const counted = tokenizer === "o200k_base" ? "tokens_o2 IS NOT NULL AND block_o2 IS NOT NULL" : "tokens_cl IS NOT NULL AND block_cl IS NOT NULL";
      const text = skip.length ? `CASE WHEN ${counted} AND chunk_id IN (SELECT value FROM json_each(?2)) THEN NULL ELSE text END AS text` : "text";
      const select = (cols: string, list: string[], extra: string[]) =>
        sql
          .exec<Omit<ChunkRow, "text"> & { text: string | null; segs: ArrayBuffer | null }>(
            `SELECT rid, chunk_id, path, ordinal, start_line, end_line, ${cols}, tokens_cl, tokens_o2, block_cl, block_o2, ${segsColumn(tokenizer)} AS segs FROM chunks WHERE chunk_id IN (SELECT value FROM json_each(?1))`,
            json(list),
            ...extra,
          )
          .toArray();
      const rows = select(text, ids, skip.length ? [json(skip)] : []);
      // A held key that is only part of the chunk does not stand for its text: read it after all.
      const partial = rows.filter((r) => r.text === null && !held.get(r.chunk_id)?.has(`${r.start_line}-${r.end_line}`)).map((r) => r.chunk_id);
      const texts = new Map(partial.length ? select("text", partial, []).map((r) => [r.chunk_id, r.text]) : []);
      const order = new Map(ids.map((id, i) => [id, i]));
      return rows
        .map((row) => {
          const r = texts.has(row.chunk_id) ? { ...row, text: texts.get(row.chunk_id) ?? "" } : row;
          return r.text === null
            ? { ...metaOf(r), text: "", textless: true, ...chunkCounts(sql, { ...r, text: "" }, tokenizer) }
            : { ...metaOf(r), text: r.text, ...chunkCounts(sql, { ...r, text: r.text }, tokenizer), ...(r.segs ? { segments: new Int32Array(r.segs) } : {}) };
        })
        .sort((a, b) => (a.path === b.path ? a.ordinal - b.ordinal : (order.get(a.chunkId) ?? 0) - (order.get(b.chunkId) ?? 0)));
    },
    saveSegments: (chunkId, tokenizer, segments) => {
      sql.exec(`UPDATE chunks SET ${segsColumn(tokenizer)} = ? WHERE chunk_id = ?`, segments.slice().buffer, chunkId);
    },
    projectSummary: (tokenizer) => {
      const r = sql
        .exec<{ id: string; content: string; tokens_cl: number }>("SELECT id, content, tokens_cl FROM summaries WHERE level = 'project'")
        .toArray()[0];
      return r ? summaryOf(tokenizer, "project-summary", r.id, "", r.content, r.tokens_cl) : undefined;
    },
    fileSummaries: (paths, tokenizer) => {
      const rows =
        paths === "all"
          ? sql.exec<SummaryRow>(`SELECT ${fileSummaryColumns} ORDER BY f.path`).toArray()
          : sql.exec<SummaryRow>(`SELECT ${fileSummaryColumns} WHERE f.path IN (SELECT value FROM json_each(?))`, json(paths)).toArray();
      const order = paths === "all" ? undefined : new Map(paths.map((p, i) => [p, i]));
      if (order) rows.sort((a, b) => (order.get(a.path) ?? 0) - (order.get(b.path) ?? 0));
      return rows.map((r) => summaryOf(tokenizer, "file-summary", r.summary_id, r.path, r.summary, r.summary_cl));
    },
    summaryMatches: (terms, limit) => {
      if (terms.length === 0) return [];
      return sql
        .exec<{ level: "file" | "directory"; path: string }>(
          bestMatches(
            "summaries_fts",
            `bm25(summaries_fts, 0, 0, 1.0, 2.0, ${model ? 1.0 : 0})`,
            "summaries_fts t ON t.rowid = f.r",
            "t.level, t.path",
            "t.path",
          ),
          // Without model summaries their terms (model_body) are not searched.
          model ? ftsAnyOf(terms) : `{body path_terms} : (${ftsAnyOf(terms)})`,
          limit,
        )
        .toArray();
    },
    dirSummaries: (tokenizer) =>
      sql
        .exec<{ id: string; path: string; content: string; tokens_cl: number }>(
          model
            ? `SELECT s.id, s.path, coalesce(m.content, s.content) AS content, coalesce(m.tokens_cl, s.tokens_cl) AS tokens_cl FROM summaries s
               LEFT JOIN dir_model_summaries d ON d.path = s.path LEFT JOIN model_summaries m ON m.level = 'directory' AND m.sha256 = d.input_sha
               WHERE s.level = 'directory' ORDER BY s.path`
            : "SELECT id, path, content, tokens_cl FROM summaries WHERE level = 'directory' ORDER BY path",
        )
        .toArray()
        .map((r) => summaryOf(tokenizer, "dir-summary", r.id, r.path, r.content, r.tokens_cl)),
    totalTokens: (tokenizer) => scale(tokenizer, sql.exec<{ n: number }>("SELECT coalesce(sum(tokens_cl), 0) AS n FROM files").one().n),
  };
}
