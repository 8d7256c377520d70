/**
 * ProjectIndex: one Durable Object per project, the project's search shard. Its SQLite holds the
 * chunk text, an FTS5 index of code-aware terms, definitions, imports and references per file, the
 * file graph (imports resolved to files, and uses of names to the few files that define them),
 * offline summaries and (locally) the vectors. Ingestion writes through `indexFiles`; assembly runs
 * here, next to the data, through `assemble`. D1 stays the system of record; this is derived state.
 */
import { DurableObject } from "cloudflare:workers";
import { and, eq, inArray } from "drizzle-orm";
import {
  type AssembleRequest,
  type AssembleResult,
  assembleContext,
  type ChunkBody,
  type ChunkMeta,
  type RetrievalStore,
  type Summary,
} from "../src/lib/assembly/assemble";
import { type RenderPiece, renderPiece } from "../src/lib/assembly/prompt";
import { sha256Hex } from "../src/lib/crypto/hash";
import { caught, type ErrorResult } from "../src/lib/errors";
import { type Embedder, embedderFor } from "../src/lib/retrieval/embedder";
import { summarizeDirectory, summarizeProject, summaryId } from "../src/lib/retrieval/summaries";
import { type FileSymbol, importTargets, languageOf } from "../src/lib/retrieval/symbols";
import { pathTerms, termsOf } from "../src/lib/retrieval/terms";
import { chooseVectorIndex, type VectorIndex } from "../src/lib/retrieval/vector-index";
import { openDb, rowsPerStatement, tables } from "../src/lib/storage";
import { baseEncoding, countWith, scaleToClaude, type Tokenizer } from "../src/lib/tokenizer";

export type IndexedChunk = { chunkId: string; ordinal: number; startLine: number; endLine: number; text: string };
export type IndexedFile = {
  path: string;
  sha256: string;
  type: string;
  chunks: IndexedChunk[];
  symbols: FileSymbol[];
  summaryId: string;
  summary: string;
  head: string;
};
export type IndexInput = { projectId: string; projectName: string; files: IndexedFile[]; removed: string[]; changedAt: number };

type ChunkRowFull = {
  rid: number;
  chunk_id: string;
  path: string;
  ordinal: number;
  start_line: number;
  end_line: number;
  text: string;
  tokens_cl: number;
  tokens_o2: number | null;
  block_cl: number | null;
  block_o2: number | null;
};

// A referenced name links its user to its definers only when at most this many files define it.
const LINK_MAX_DEFINERS = 3;

// Recent-change groups larger than this are bulk uploads, not a signal of what someone is working on.
const RECENT_GROUP_MAX = 50;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, type TEXT NOT NULL, tokens_cl INTEGER NOT NULL,
    changed_at INTEGER NOT NULL, summary_id TEXT NOT NULL, summary TEXT NOT NULL, summary_cl INTEGER NOT NULL, head TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS files_changed ON files (changed_at);
  CREATE TABLE IF NOT EXISTS chunks (rid INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id TEXT NOT NULL UNIQUE, path TEXT NOT NULL, ordinal INTEGER NOT NULL,
    start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, tokens_cl INTEGER NOT NULL, tokens_o2 INTEGER,
    block_cl INTEGER, block_o2 INTEGER, text TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS chunks_path ON chunks (path, ordinal);
  CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(body, path, tokenize = "unicode61 tokenchars '_'");
  CREATE TABLE IF NOT EXISTS symbols (path TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, line INTEGER NOT NULL, signature TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS symbols_name ON symbols (name, kind);
  CREATE INDEX IF NOT EXISTS symbols_path ON symbols (path);
  CREATE TABLE IF NOT EXISTS edges (from_path TEXT NOT NULL, to_path TEXT NOT NULL, PRIMARY KEY (from_path, to_path));
  CREATE INDEX IF NOT EXISTS edges_to ON edges (to_path);
  CREATE TABLE IF NOT EXISTS summaries (id TEXT PRIMARY KEY, level TEXT NOT NULL, path TEXT NOT NULL, content TEXT NOT NULL, tokens_cl INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS block_counts (key TEXT PRIMARY KEY, n INTEGER NOT NULL);
  CREATE VIRTUAL TABLE IF NOT EXISTS summaries_fts USING fts5(level UNINDEXED, path UNINDEXED, body, path_terms, tokenize = "unicode61 tokenchars '_'");
  CREATE TABLE IF NOT EXISTS ai_feedback (generation_id TEXT PRIMARY KEY, paths TEXT NOT NULL, approved INTEGER NOT NULL, at INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS ai_feedback_at ON ai_feedback (approved, at);
`;

// Vectors removed from Vectorize per purge call: one deleteByIds call (it takes up to 1,000 ids, like upsert).
const PURGE_VECTORS = 1000;

export class ProjectIndex extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private vectors: VectorIndex | undefined;
  private readonly embedder: Embedder;
  private paths: { list: string[]; set: Set<string>; bySuffix: Map<string, string[]> } | undefined;
  // The schema is created at first use, not in the constructor, so a purged shard stays empty.
  private ready = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.embedder = embedderFor(env);
  }

  private open(): void {
    if (this.ready) return;
    this.sql.exec(SCHEMA);
    this.ready = true;
  }

  /**
   * The vector index, chosen once the project id is known: Vectorize (namespace = project) when bound,
   * else the shard's own SQLite vectors. A shard with Vectorize bound but no project id yet has nothing
   * indexed, so the choice is not kept until `indexFiles` has recorded the id.
   */
  private vectorIndex(): VectorIndex {
    if (this.vectors) return this.vectors;
    const projectId = this.meta("project_id");
    const index = chooseVectorIndex(this.env.VECTORS, projectId, this.sql);
    if (projectId !== undefined || this.env.VECTORS === undefined) this.vectors = index;
    return index;
  }

  /** Replaces the given files' chunks, terms, symbols and vectors, and drops removed paths. Idempotent. */
  async indexFiles(input: IndexInput): Promise<{ files: number; chunks: number; removed: number }> {
    this.open();
    this.setMeta("project_id", input.projectId);
    this.setMeta("project_name", input.projectName);
    const vectorIds: string[] = [];
    for (const path of [...input.files.map((f) => f.path), ...input.removed]) vectorIds.push(...this.dropFile(path));
    await this.vectorIndex().remove(vectorIds);
    let chunks = 0;
    const toEmbed: { id: string; path: string; text: string }[] = [];
    for (const f of input.files) {
      let tokens = 0;
      for (const c of f.chunks) {
        const cl = countWith("cl100k_base", c.text);
        tokens += cl;
        const rid = this.sql
          .exec<{ rid: number }>(
            "INSERT INTO chunks (chunk_id, path, ordinal, start_line, end_line, tokens_cl, text) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING rid",
            c.chunkId,
            f.path,
            c.ordinal,
            c.startLine,
            c.endLine,
            cl,
            c.text,
          )
          .one().rid;
        this.sql.exec("INSERT INTO chunks_fts (rowid, body, path) VALUES (?, ?, ?)", rid, termsOf(c.text).join(" "), pathTerms(f.path).join(" "));
        toEmbed.push({ id: c.chunkId, path: f.path, text: `${f.path}\n${c.text}` });
        chunks++;
      }
      for (const s of f.symbols)
        this.sql.exec("INSERT INTO symbols (path, name, kind, line, signature) VALUES (?, ?, ?, ?, ?)", f.path, s.name, s.kind, s.line, s.signature);
      this.sql.exec(
        "INSERT INTO summaries_fts (level, path, body, path_terms) VALUES ('file', ?, ?, ?)",
        f.path,
        termsOf(f.summary).join(" "),
        pathTerms(f.path).join(" "),
      );
      this.sql.exec(
        "INSERT INTO files (path, sha256, type, tokens_cl, changed_at, summary_id, summary, summary_cl, head) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        f.path,
        f.sha256,
        f.type,
        tokens,
        input.changedAt,
        f.summaryId,
        f.summary,
        countWith("cl100k_base", f.summary),
        f.head,
      );
    }
    const vectors = await this.embedder.embed(toEmbed.map((e) => e.text));
    await this.vectorIndex().upsert(toEmbed.map((e, i) => ({ id: e.id, path: e.path, vector: vectors[i] as Float32Array })));
    this.paths = undefined;
    this.setMeta("derived_dirty", "1");
    // Directory and project summaries and the file graph are rebuilt once ingestion goes quiet.
    await this.ctx.storage.setAlarm(Date.now() + 2000);
    return { files: input.files.length, chunks, removed: input.removed.length };
  }

  async alarm(): Promise<void> {
    // A purged shard has no schema and nothing to refresh.
    if (!this.hasSchema()) return;
    await this.refreshDerived();
  }

  /**
   * Assembles the context for a prompt from this project's index. Errors meant for the caller come
   * back as data: an exception's class does not survive the RPC boundary.
   */
  async assemble(req: AssembleRequest): Promise<AssembleResult | ErrorResult> {
    this.open();
    if (this.meta("derived_dirty") === "1") await this.refreshDerived();
    return caught(() => assembleContext(this.store(), req));
  }

  /** A reviewer's verdict on a generated change: approved changes make their files a priority signal. */
  async recordFeedback(generationId: string, paths: string[], approved: boolean): Promise<void> {
    this.open();
    this.sql.exec(
      "INSERT OR REPLACE INTO ai_feedback (generation_id, paths, approved, at) VALUES (?, ?, ?, ?)",
      generationId,
      JSON.stringify(paths),
      approved ? 1 : 0,
      Date.now(),
    );
    // Only the newest verdicts are ever read.
    this.sql.exec("DELETE FROM ai_feedback WHERE generation_id NOT IN (SELECT generation_id FROM ai_feedback ORDER BY at DESC LIMIT 200)");
  }

  /** Counts for tests and the API. */
  async stats(): Promise<{ files: number; chunks: number; symbols: number; edges: number; summaries: number; tokensCl: number }> {
    this.open();
    const one = (q: string): number => this.sql.exec<{ n: number }>(q).one().n;
    return {
      files: one("SELECT count(*) AS n FROM files"),
      chunks: one("SELECT count(*) AS n FROM chunks"),
      symbols: one("SELECT count(*) AS n FROM symbols"),
      edges: one("SELECT count(*) AS n FROM edges"),
      summaries: one("SELECT count(*) AS n FROM summaries"),
      tokensCl: one("SELECT coalesce(sum(tokens_cl), 0) AS n FROM files"),
    };
  }

  /**
   * Removes everything the shard holds, in bounded calls (a project deletion calls until `done`). With
   * Vectorize, which has no namespace delete, the vectors go first by chunk id, PURGE_VECTORS a call, each
   * batch's chunk rows with them so the next call resumes; then the alarm and the whole storage.
   */
  async purge(): Promise<{ done: boolean; vectorsRemoved: number }> {
    if (this.hasSchema() && this.env.VECTORS && this.meta("project_id") !== undefined) {
      const rows = this.sql.exec<{ rid: number; chunk_id: string }>("SELECT rid, chunk_id FROM chunks ORDER BY rid LIMIT ?", PURGE_VECTORS).toArray();
      if (rows.length > 0) {
        await this.vectorIndex().remove(rows.map((r) => r.chunk_id));
        const last = rows[rows.length - 1]?.rid ?? 0;
        this.sql.exec("DELETE FROM chunks_fts WHERE rowid <= ?", last);
        this.sql.exec("DELETE FROM chunks WHERE rid <= ?", last);
        return { done: false, vectorsRemoved: rows.length };
      }
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.ready = false;
    this.vectors = undefined;
    this.paths = undefined;
    return { done: true, vectorsRemoved: 0 };
  }

  /** Directory and project summaries, and the import graph; mirrored to D1's summaries table. */
  async refreshDerived(): Promise<void> {
    this.open();
    const files = this.sql.exec<{ path: string; head: string; summary: string }>("SELECT path, head, summary FROM files ORDER BY path").toArray();
    const byDir = new Map<string, { path: string; head: string }[]>();
    const subdirs = new Map<string, Set<string>>();
    for (const f of files) {
      const dir = f.path.includes("/") ? f.path.slice(0, f.path.lastIndexOf("/")) : "";
      byDir.set(dir, [...(byDir.get(dir) ?? []), f]);
      let d = dir;
      while (d !== "") {
        const parent = d.includes("/") ? d.slice(0, d.lastIndexOf("/")) : "";
        if (!subdirs.has(parent)) subdirs.set(parent, new Set());
        subdirs.get(parent)?.add(d.slice(d.lastIndexOf("/") + 1));
        if (!byDir.has(parent)) byDir.set(parent, []);
        d = parent;
      }
    }
    const projectId = this.meta("project_id") ?? "";
    const rows: { id: string; level: "directory" | "project"; path: string; content: string }[] = [];
    for (const [dir, list] of byDir) {
      rows.push({
        id: await summaryId(projectId, "directory", dir),
        level: "directory",
        path: dir,
        content: summarizeDirectory(dir, list, [...(subdirs.get(dir) ?? [])].sort()),
      });
    }
    const readme = files.find((f) => /^readme(\.[a-z]+)?$/i.test(f.path));
    const readmeText = readme
      ? this.sql.exec<{ text: string }>("SELECT text FROM chunks WHERE path = ? ORDER BY ordinal LIMIT 1", readme.path).toArray()[0]?.text
      : undefined;
    rows.push({
      id: await summaryId(projectId, "project", ""),
      level: "project",
      path: "",
      content: summarizeProject(this.meta("project_name") ?? "project", readmeText, files),
    });

    this.sql.exec("DELETE FROM summaries");
    this.sql.exec("DELETE FROM summaries_fts WHERE level != 'file'");
    for (const r of rows)
      this.sql.exec(
        "INSERT INTO summaries (id, level, path, content, tokens_cl) VALUES (?, ?, ?, ?, ?)",
        r.id,
        r.level,
        r.path,
        r.content,
        countWith("cl100k_base", r.content),
      );
    for (const r of rows) {
      if (r.level === "directory")
        this.sql.exec(
          "INSERT INTO summaries_fts (level, path, body, path_terms) VALUES ('directory', ?, ?, ?)",
          r.path,
          termsOf(r.content).join(" "),
          pathTerms(r.path).join(" "),
        );
    }

    this.sql.exec("DELETE FROM edges");
    const lookup = this.pathLookup();
    for (const s of this.sql.exec<{ path: string; name: string }>("SELECT path, name FROM symbols WHERE kind = 'import'")) {
      for (const target of resolveImport(s.path, s.name, lookup))
        if (target !== s.path) this.sql.exec("INSERT OR IGNORE INTO edges (from_path, to_path) VALUES (?, ?)", s.path, target);
    }
    // A file that uses a name defined in only a few other files depends on them; names defined
    // everywhere ("get", "run") link nothing in particular.
    this.sql.exec(`
      INSERT OR IGNORE INTO edges (from_path, to_path)
      SELECT r.path, d.path FROM symbols r JOIN symbols d ON d.name = r.name AND d.kind = 'def'
      WHERE r.kind = 'ref' AND r.path != d.path
        AND r.name IN (SELECT name FROM symbols WHERE kind = 'def' GROUP BY name HAVING count(DISTINCT path) <= ${LINK_MAX_DEFINERS})`);
    this.setMeta("derived_dirty", "0");
    if (projectId) await mirrorSummaries(this.env.DB, projectId, rows);
  }

  private dropFile(path: string): string[] {
    const ids = this.sql.exec<{ rid: number; chunk_id: string }>("SELECT rid, chunk_id FROM chunks WHERE path = ?", path).toArray();
    for (const r of ids) this.sql.exec("DELETE FROM chunks_fts WHERE rowid = ?", r.rid);
    this.sql.exec("DELETE FROM chunks WHERE path = ?", path);
    this.sql.exec("DELETE FROM symbols WHERE path = ?", path);
    this.sql.exec("DELETE FROM files WHERE path = ?", path);
    this.sql.exec("DELETE FROM summaries_fts WHERE level = 'file' AND path = ?", path);
    return ids.map((r) => r.chunk_id);
  }

  private hasSchema(): boolean {
    return this.ready || this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray().length > 0;
  }

  private meta(key: string): string | undefined {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value;
  }

  private setMeta(key: string, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }

  private pathLookup(): { list: string[]; set: Set<string>; bySuffix: Map<string, string[]> } {
    if (!this.paths) {
      const list = this.sql
        .exec<{ path: string }>("SELECT path FROM files ORDER BY path")
        .toArray()
        .map((r) => r.path);
      const bySuffix = new Map<string, string[]>();
      for (const p of list) {
        const parts = p.split("/");
        for (let i = 0; i < parts.length; i++) {
          const suffix = parts.slice(i).join("/");
          bySuffix.set(suffix, [...(bySuffix.get(suffix) ?? []), p]);
        }
        // Directories, for Go-style imports of a package path.
        for (let i = 0; i < parts.length - 1; i++) {
          const dirSuffix = `${parts.slice(i, -1).join("/")}/`;
          bySuffix.set(dirSuffix, [...(bySuffix.get(dirSuffix) ?? []), p]);
        }
      }
      this.paths = { list, set: new Set(list), bySuffix };
    }
    return this.paths;
  }

  /** Tokens of a chunk's text in the model's tokenizer, and of its rendered block in the base encoding; cached. */
  private chunkCounts(row: ChunkRowFull, tokenizer: Tokenizer): { tokens: number; block: number } {
    const o2 = tokenizer === "o200k_base";
    let text = o2 ? row.tokens_o2 : row.tokens_cl;
    if (text === null) {
      text = countWith("o200k_base", row.text);
      this.sql.exec("UPDATE chunks SET tokens_o2 = ? WHERE rid = ?", text, row.rid);
    }
    let block = o2 ? row.block_o2 : row.block_cl;
    if (block === null) {
      const rendered = renderPiece({ id: row.chunk_id, kind: "chunk", path: row.path, startLine: row.start_line, endLine: row.end_line, text: row.text });
      block = countWith(o2 ? "o200k_base" : "cl100k_base", rendered);
      this.sql.exec(`UPDATE chunks SET ${o2 ? "block_o2" : "block_cl"} = ? WHERE rid = ?`, block, row.rid);
    }
    return { tokens: tokenizer === "claude" ? scaleToClaude(text) : text, block };
  }

  /** Base-encoding tokens of a summary's rendered block, cached by id and content hash. */
  private summaryBlock(piece: RenderPiece, tokenizer: Tokenizer): number {
    const encoding = baseEncoding(tokenizer);
    const key = `${encoding}:${piece.id}:${piece.text.length}`;
    const hit = this.sql.exec<{ n: number }>("SELECT n FROM block_counts WHERE key = ?", key).toArray()[0];
    if (hit) return hit.n;
    const n = countWith(encoding, renderPiece(piece));
    this.sql.exec("INSERT OR REPLACE INTO block_counts (key, n) VALUES (?, ?)", key, n);
    return n;
  }

  private store(): RetrievalStore {
    const sql = this.sql;
    const json = (xs: string[]): string => JSON.stringify(xs);
    // Held block keys ("chunkId:start-end") by chunk, parsed once per list the caller passes.
    let heldFor: { keys: string[] | undefined; byId: Map<string, Set<string>> } = { keys: undefined, byId: new Map() };
    const heldRanges = (keys: string[] | undefined): Map<string, Set<string>> => {
      if (keys === heldFor.keys) return heldFor.byId;
      const byId = new Map<string, Set<string>>();
      for (const k of keys ?? []) {
        const at = k.lastIndexOf(":");
        if (at <= 0) continue;
        const id = k.slice(0, at);
        byId.set(id, (byId.get(id) ?? new Set()).add(k.slice(at + 1)));
      }
      heldFor = { keys, byId };
      return byId;
    };
    const metaOf = (r: { chunk_id: string; path: string; ordinal: number; start_line: number; end_line: number }): ChunkMeta => ({
      chunkId: r.chunk_id,
      path: r.path,
      ordinal: r.ordinal,
      startLine: r.start_line,
      endLine: r.end_line,
    });
    type MetaRow = { chunk_id: string; path: string; ordinal: number; start_line: number; end_line: number };
    type SummaryRow = { path: string; summary_id: string; summary: string; summary_cl: number };
    const scale = (tokenizer: Tokenizer, cl: number): number => (tokenizer === "claude" ? scaleToClaude(cl) : cl);
    const summaryOf = (tokenizer: Tokenizer, kind: Summary["kind"], id: string, path: string, text: string, cl: number): Summary => ({
      id,
      kind,
      path,
      text,
      tokens: tokenizer === "o200k_base" ? countWith("o200k_base", text) : scale(tokenizer, cl),
      block: this.summaryBlock({ id, kind, path, startLine: 0, endLine: 0, text }, tokenizer),
    });
    return {
      lexical: (terms, limit) => {
        if (terms.length === 0) return [];
        const match = terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(" OR ");
        return sql
          .exec<{ chunk_id: string; s: number }>(
            "SELECT c.chunk_id, bm25(chunks_fts, 1.0, 4.0) AS s FROM chunks_fts JOIN chunks c ON c.rid = chunks_fts.rowid WHERE chunks_fts MATCH ? ORDER BY s LIMIT ?",
            match,
            limit,
          )
          .toArray()
          .map((r) => ({ chunkId: r.chunk_id, score: -r.s }));
      },
      vector: async (prompt, limit) => {
        const [q] = await this.embedder.embed([prompt]);
        return q ? (await this.vectorIndex().query(q, limit)).map((h) => ({ chunkId: h.id, score: h.score })) : [];
      },
      definitions: (names) =>
        names.length === 0
          ? []
          : sql
              .exec<{ path: string; line: number }>(
                "SELECT path, line FROM symbols WHERE kind = 'def' AND name IN (SELECT value FROM json_each(?)) LIMIT 60",
                json(names),
              )
              .toArray(),
      neighbors: (paths) =>
        paths.length === 0
          ? []
          : [
              ...new Set(
                sql
                  .exec<{ p: string }>(
                    "SELECT to_path AS p FROM edges WHERE from_path IN (SELECT value FROM json_each(?1)) UNION SELECT from_path AS p FROM edges WHERE to_path IN (SELECT value FROM json_each(?1)) LIMIT 40",
                    json(paths),
                  )
                  .toArray()
                  .map((r) => r.p),
              ),
            ],
      approvedPaths: (limit) => {
        const out = new Set<string>();
        for (const r of sql.exec<{ paths: string }>("SELECT paths FROM ai_feedback WHERE approved = 1 ORDER BY at DESC LIMIT ?", limit)) {
          for (const p of JSON.parse(r.paths) as string[]) if (this.pathLookup().set.has(p)) out.add(p);
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
      existingPaths: (paths) => new Set(paths.filter((p) => this.pathLookup().set.has(p))),
      chunksOfPaths: (paths) => {
        if (paths.length === 0) return [];
        const rows = sql
          .exec<MetaRow>("SELECT chunk_id, path, ordinal, start_line, end_line FROM chunks WHERE path IN (SELECT value FROM json_each(?))", json(paths))
          .toArray();
        const order = new Map(paths.map((p, i) => [p, i]));
        return rows.map(metaOf).sort((a, b) => (order.get(a.path) ?? 0) - (order.get(b.path) ?? 0) || a.ordinal - b.ordinal);
      },
      chunkMeta: (ids) =>
        ids.length === 0
          ? []
          : sql
              .exec<MetaRow>("SELECT chunk_id, path, ordinal, start_line, end_line FROM chunks WHERE chunk_id IN (SELECT value FROM json_each(?))", json(ids))
              .toArray()
              .map(metaOf),
      fileTokens: (paths, tokenizer) =>
        new Map(
          sql
            .exec<{ path: string; tokens_cl: number }>("SELECT path, tokens_cl FROM files WHERE path IN (SELECT value FROM json_each(?))", json(paths))
            .toArray()
            .map((r) => [r.path, scale(tokenizer, r.tokens_cl)]),
        ),
      loadChunks: (ids, tokenizer, heldKeys): ChunkBody[] => {
        if (ids.length === 0) return [];
        // A chunk whose whole block the caller holds, with its counts already known, is read without its text.
        const held = heldRanges(heldKeys);
        const skip = held.size ? ids.filter((id) => held.has(id)) : [];
        const counted = tokenizer === "o200k_base" ? "tokens_o2 IS NOT NULL AND block_o2 IS NOT NULL" : "tokens_cl IS NOT NULL AND block_cl IS NOT NULL";
        const text = skip.length ? `CASE WHEN ${counted} AND chunk_id IN (SELECT value FROM json_each(?2)) THEN NULL ELSE text END AS text` : "text";
        const select = (cols: string, list: string[], extra: string[]) =>
          sql
            .exec<Omit<ChunkRowFull, "text"> & { text: string | null }>(
              `SELECT rid, chunk_id, path, ordinal, start_line, end_line, ${cols}, tokens_cl, tokens_o2, block_cl, block_o2 FROM chunks WHERE chunk_id IN (SELECT value FROM json_each(?1))`,
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
              ? { ...metaOf(r), text: "", textless: true, ...this.chunkCounts({ ...r, text: "" }, tokenizer) }
              : { ...metaOf(r), text: r.text, ...this.chunkCounts({ ...r, text: r.text }, tokenizer) };
          })
          .sort((a, b) => (a.path === b.path ? a.ordinal - b.ordinal : (order.get(a.chunkId) ?? 0) - (order.get(b.chunkId) ?? 0)));
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
            ? sql.exec<SummaryRow>("SELECT path, summary_id, summary, summary_cl FROM files ORDER BY path").toArray()
            : sql
                .exec<SummaryRow>("SELECT path, summary_id, summary, summary_cl FROM files WHERE path IN (SELECT value FROM json_each(?))", json(paths))
                .toArray();
        const order = paths === "all" ? undefined : new Map(paths.map((p, i) => [p, i]));
        if (order) rows.sort((a, b) => (order.get(a.path) ?? 0) - (order.get(b.path) ?? 0));
        return rows.map((r) => summaryOf(tokenizer, "file-summary", r.summary_id, r.path, r.summary, r.summary_cl));
      },
      summaryMatches: (terms, limit) => {
        if (terms.length === 0) return [];
        const match = terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(" OR ");
        return sql
          .exec<{ level: "file" | "directory"; path: string }>(
            "SELECT level, path FROM summaries_fts WHERE summaries_fts MATCH ? ORDER BY bm25(summaries_fts, 0, 0, 1.0, 2.0) LIMIT ?",
            match,
            limit,
          )
          .toArray();
      },
      dirSummaries: (tokenizer) =>
        sql
          .exec<{ id: string; path: string; content: string; tokens_cl: number }>(
            "SELECT id, path, content, tokens_cl FROM summaries WHERE level = 'directory' ORDER BY path",
          )
          .toArray()
          .map((r) => summaryOf(tokenizer, "dir-summary", r.id, r.path, r.content, r.tokens_cl)),
      totalTokens: (tokenizer) => scale(tokenizer, sql.exec<{ n: number }>("SELECT coalesce(sum(tokens_cl), 0) AS n FROM files").one().n),
    };
  }
}

function resolveImport(from: string, spec: string, lookup: { set: Set<string>; bySuffix: Map<string, string[]> }): string[] {
  const { exact, suffixes } = importTargets(from, spec, languageOf(from));
  for (const e of exact) if (lookup.set.has(e)) return [e];
  for (const s of suffixes) {
    const hits = lookup.bySuffix.get(s);
    // An ambiguous suffix (many files end the same way) says little; keep only close matches.
    if (hits && hits.length <= 3) return hits;
  }
  return [];
}

/** D1 keeps every summary as the system of record; directory and project rows are replaced whole. */
async function mirrorSummaries(
  d1: D1Database,
  projectId: string,
  rows: { id: string; level: "directory" | "project"; path: string; content: string }[],
): Promise<void> {
  const db = openDb(d1);
  const statements = [
    db.delete(tables.summaries).where(and(eq(tables.summaries.projectId, projectId), inArray(tables.summaries.level, ["directory", "project"]))),
  ];
  const all = await Promise.all(
    rows.map(async (r) => ({
      summaryId: r.id,
      projectId,
      path: r.path,
      level: r.level,
      content: r.content,
      tokenCount: countWith("cl100k_base", r.content),
      sha256: await sha256Hex(r.content),
    })),
  );
  for (const part of rowsPerStatement(all, tables.summaries)) statements.push(db.insert(tables.summaries).values(part) as never);
  await db.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
}
