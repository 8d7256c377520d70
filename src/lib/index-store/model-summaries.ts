/**
 * Model-written summaries in the shard: a cache keyed by level and content hash (the same file content,
 * chunk text or directory listing is summarised once per project, whatever its path and however often it
 * is re-ingested), each file's state (done, reused, failed, stopped by the budget, skipped) and each
 * directory's current model summary. The extractive summaries stay in `files` and `summaries`; the
 * read path prefers the model's where one exists for the current content.
 */
import { sha256Hex } from "../crypto/hash";
import { nameOf } from "../retrieval/directory";
import { pathTerms, termsOf } from "../retrieval/terms";
import { countWith } from "../tokenizer";
import { directoryTree } from "./derived";
import { readMeta, writeMeta } from "./schema";

export type ModelSummaryLevel = "file" | "chunk" | "directory";
export const SUMMARY_STATUSES = ["done", "reused", "failed", "budget", "skipped"] as const;
export type SummaryStatus = (typeof SUMMARY_STATUSES)[number];

/** A file that needs a model summary: its current content hash and size. */
export type SummaryWork = { path: string; sha256: string; tokensCl: number };
export type StoredSummary = { level: ModelSummaryLevel; sha256: string; content: string; model: string; costUsd: number };
export type DirWork = { path: string; inputSha: string; input: string };
export type SummaryReport = {
  files: number;
  modelSummaries: number;
  pending: number;
  byStatus: Record<SummaryStatus, number>;
  directories: number;
  modelDirectories: number;
  failures: { path: string; detail: string; at: number }[];
};

// A directory's listing sent to the model is cut here (~3k tokens): enough for its files' summaries.
const DIR_INPUT_CHARS = 12_000;

export function cachedSummary(sql: SqlStorage, level: ModelSummaryLevel, sha256: string): string | undefined {
  return sql.exec<{ content: string }>("SELECT content FROM model_summaries WHERE level = ? AND sha256 = ?", level, sha256).toArray()[0]?.content;
}

/** The terms of a file's model summary for its search row (`model_body`, apart so the eval can leave them out); "" without one. */
export function modelSearchTerms(sql: SqlStorage, sha256: string): string {
  const model = cachedSummary(sql, "file", sha256);
  return model ? termsOf(model).join(" ") : "";
}

function refreshFileSearch(sql: SqlStorage, sha256: string): void {
  for (const f of sql.exec<{ path: string; summary: string }>("SELECT path, summary FROM files WHERE sha256 = ?", sha256).toArray()) {
    sql.exec("DELETE FROM summaries_fts WHERE level = 'file' AND path = ?", f.path);
    sql.exec(
      "INSERT INTO summaries_fts (level, path, body, path_terms, model_body) VALUES ('file', ?, ?, ?, ?)",
      f.path,
      termsOf(f.summary).join(" "),
      pathTerms(f.path).join(" "),
      modelSearchTerms(sql, sha256),
    );
  }
}

export function recordSummaryStatus(sql: SqlStorage, files: { path: string; sha256: string }[], status: SummaryStatus, detail: string, at: number): void {
  for (const f of files)
    sql.exec("INSERT OR REPLACE INTO summary_status (path, sha256, status, detail, at) VALUES (?, ?, ?, ?, ?)", f.path, f.sha256, status, detail, at);
}

/** Whether this content of the file already has its summary recorded (a redelivered message leaves it as it is). */
function settled(sql: SqlStorage, f: { path: string; sha256: string }): boolean {
  return sql.exec("SELECT 1 FROM summary_status WHERE path = ? AND sha256 = ? AND status IN ('done', 'reused')", f.path, f.sha256).toArray().length > 0;
}

/**
 * Of `paths`, the text files still needing a model summary. Files whose content the cache already
 * summarised are marked `reused` here and cost nothing; paths gone or without text are left out.
 */
export function summaryWork(sql: SqlStorage, paths: string[], at: number): SummaryWork[] {
  const rows = sql
    .exec<SummaryWork>(
      `SELECT f.path, f.sha256, f.tokens_cl AS tokensCl FROM files f
       WHERE f.path IN (SELECT value FROM json_each(?)) AND EXISTS (SELECT 1 FROM chunks c WHERE c.path = f.path) ORDER BY f.path`,
      JSON.stringify(paths),
    )
    .toArray();
  const out: SummaryWork[] = [];
  for (const r of rows) {
    if (cachedSummary(sql, "file", r.sha256) === undefined) out.push(r);
    else if (!settled(sql, r)) {
      recordSummaryStatus(sql, [r], "reused", "", at);
      refreshFileSearch(sql, r.sha256);
    }
  }
  return out;
}

/** The chunks' texts of a file, if it still has this content (a newer ingestion may have changed it). */
export function summaryInput(sql: SqlStorage, path: string, sha256: string): string[] | undefined {
  const f = sql.exec<{ sha256: string }>("SELECT sha256 FROM files WHERE path = ?", path).toArray()[0];
  if (f?.sha256 !== sha256) return undefined;
  return sql
    .exec<{ text: string }>("SELECT text FROM chunks WHERE path = ? ORDER BY ordinal", path)
    .toArray()
    .map((r) => r.text);
}

/** Caches a model summary; a file summary is recorded as the file's state and joins its search row. */
export function storeModelSummary(sql: SqlStorage, s: StoredSummary, file: { path: string } | undefined, at: number): void {
  sql.exec(
    "INSERT OR REPLACE INTO model_summaries (level, sha256, content, model, tokens_cl, cost_micro_usd, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    s.level,
    s.sha256,
    s.content,
    s.model,
    countWith("cl100k_base", s.content),
    Math.round(s.costUsd * 1e6),
    at,
  );
  if (s.level === "file" && file) {
    recordSummaryStatus(sql, [{ path: file.path, sha256: s.sha256 }], "done", "", at);
    refreshFileSearch(sql, s.sha256);
  }
  writeMeta(sql, "summaries_touched_at", String(at));
}

/** When model-summary work last happened (the directory pass waits for a quiet moment). */
export function summariesTouchedAt(sql: SqlStorage): number {
  return Number(readMeta(sql, "summaries_touched_at") ?? 0);
}

export function touchSummaries(sql: SqlStorage, at: number): void {
  writeMeta(sql, "summaries_touched_at", String(at));
}

type FileForDir = { path: string; summary: string; model: string | null };

/**
 * Directories whose model summary is missing or stale: each one's listing (its files with their
 * summaries, the model's where there is one, and its subdirectories) and that listing's hash. A listing
 * the cache already summarised is linked to its directory here. Directories that no longer exist lose theirs.
 */
export async function dirSummaryWork(sql: SqlStorage, limit: number): Promise<{ work: DirWork[]; more: boolean }> {
  const files = sql
    .exec<FileForDir>(
      `SELECT f.path, f.summary, m.content AS model FROM files f
       LEFT JOIN model_summaries m ON m.level = 'file' AND m.sha256 = f.sha256 ORDER BY f.path`,
    )
    .toArray();
  const { byDir, subdirs } = directoryTree(files);
  sql.exec("DELETE FROM dir_model_summaries WHERE path NOT IN (SELECT value FROM json_each(?))", JSON.stringify([...byDir.keys()]));
  const current = new Map(
    sql
      .exec<{ path: string; input_sha: string }>("SELECT path, input_sha FROM dir_model_summaries")
      .toArray()
      .map((r) => [r.path, r.input_sha]),
  );
  const work: DirWork[] = [];
  for (const [dir, list] of byDir) {
    const lines = [`Directory ${dir || "(project root)"}/`];
    const subs = [...(subdirs.get(dir) ?? [])].sort();
    if (subs.length) lines.push(`Subdirectories: ${subs.join(", ")}`);
    for (const f of list) lines.push(`- ${nameOf(f.path)}: ${(f.model ?? f.summary).replace(/\s+/g, " ").slice(0, 400)}`);
    const input = lines.join("\n").slice(0, DIR_INPUT_CHARS);
    const inputSha = await sha256Hex(input);
    if (current.get(dir) === inputSha) continue;
    if (cachedSummary(sql, "directory", inputSha) !== undefined) {
      sql.exec("INSERT OR REPLACE INTO dir_model_summaries (path, input_sha) VALUES (?, ?)", dir, inputSha);
      continue;
    }
    if (work.length === limit) return { work, more: true };
    work.push({ path: dir, inputSha, input });
  }
  return { work, more: false };
}

export function storeDirSummary(sql: SqlStorage, path: string, s: StoredSummary, at: number): void {
  storeModelSummary(sql, s, undefined, at);
  sql.exec("INSERT OR REPLACE INTO dir_model_summaries (path, input_sha) VALUES (?, ?)", path, s.sha256);
}

/**
 * Up to `limit` paths after `after` (path order) of files with chunks whose current content has no settled
 * model summary: never asked for, failed, stopped at the budget or skipped. A backfill asks for them again.
 */
export function unsettledSummaryPaths(sql: SqlStorage, after: string | null, limit: number): string[] {
  return sql
    .exec<{ path: string }>(
      `SELECT f.path FROM files f WHERE f.path > ? AND EXISTS (SELECT 1 FROM chunks c WHERE c.path = f.path)
       AND NOT EXISTS (SELECT 1 FROM summary_status s WHERE s.path = f.path AND s.sha256 = f.sha256 AND s.status IN ('done', 'reused'))
       ORDER BY f.path LIMIT ?`,
      after ?? "",
      limit,
    )
    .toArray()
    .map((r) => r.path);
}

/** What the project's model summaries amount to: files by state, pending ones, directories, the latest failures. */
export function summaryReport(sql: SqlStorage): SummaryReport {
  const byStatus = Object.fromEntries(SUMMARY_STATUSES.map((s) => [s, 0])) as Record<SummaryStatus, number>;
  for (const r of sql
    .exec<{ status: SummaryStatus; n: number }>(
      "SELECT s.status, count(*) AS n FROM summary_status s JOIN files f ON f.path = s.path AND f.sha256 = s.sha256 GROUP BY s.status",
    )
    .toArray())
    byStatus[r.status] = r.n;
  const files = sql.exec<{ n: number }>("SELECT count(DISTINCT path) AS n FROM chunks").one().n;
  const modelSummaries = sql
    .exec<{ n: number }>("SELECT count(*) AS n FROM files f WHERE EXISTS (SELECT 1 FROM model_summaries m WHERE m.level = 'file' AND m.sha256 = f.sha256)")
    .one().n;
  const settled = Object.values(byStatus).reduce((a, b) => a + b, 0);
  return {
    files,
    modelSummaries,
    pending: Math.max(0, files - settled),
    byStatus,
    directories: sql.exec<{ n: number }>("SELECT count(*) AS n FROM summaries WHERE level = 'directory'").one().n,
    modelDirectories: sql.exec<{ n: number }>("SELECT count(*) AS n FROM dir_model_summaries").one().n,
    failures: sql
      .exec<{ path: string; detail: string; at: number }>(
        "SELECT s.path, s.detail, s.at FROM summary_status s JOIN files f ON f.path = s.path AND f.sha256 = s.sha256 WHERE s.status IN ('failed', 'budget', 'skipped') ORDER BY s.at DESC, s.path LIMIT 20",
      )
      .toArray(),
  };
}
