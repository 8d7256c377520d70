/**
 * Data derived from the indexed files, rebuilt once ingestion goes quiet: directory and project
 * summaries (with their search rows) and the file graph.
 */
import { directoryOf, nameOf } from "../retrieval/directory";
import { summarizeDirectory, summarizeProject, summaryId } from "../retrieval/summaries";
import { pathTerms, termsOf } from "../retrieval/terms";
import { countWith } from "../tokenizer";
import { type PathLookup, resolveImport } from "./path-lookup";
import { readMeta, writeMeta } from "./schema";

// A referenced name links its user to its definers only when at most this many files define it.
const LINK_MAX_DEFINERS = 3;

export type DerivedSummary = { id: string; level: "directory" | "project"; path: string; content: string };
type FileHead = { path: string; head: string; summary: string };

/** Every directory that holds a file, directly or below it, with its files and its subdirectories' names. */
export function directoryTree<F extends { path: string }>(files: F[]): { byDir: Map<string, F[]>; subdirs: Map<string, Set<string>> } {
  const byDir = new Map<string, F[]>();
  const subdirs = new Map<string, Set<string>>();
  for (const f of files) {
    const dir = directoryOf(f.path);
    byDir.set(dir, [...(byDir.get(dir) ?? []), f]);
    let d = dir;
    while (d !== "") {
      const parent = directoryOf(d);
      if (!subdirs.has(parent)) subdirs.set(parent, new Set());
      subdirs.get(parent)?.add(nameOf(d));
      if (!byDir.has(parent)) byDir.set(parent, []);
      d = parent;
    }
  }
  return { byDir, subdirs };
}

/** The directory summaries, then the project summary, for files sorted by path. */
export async function summarizeTree(projectId: string, projectName: string, files: FileHead[], readmeText: string | undefined): Promise<DerivedSummary[]> {
  const { byDir, subdirs } = directoryTree(files);
  const rows: DerivedSummary[] = [];
  for (const [dir, list] of byDir) {
    rows.push({
      id: await summaryId(projectId, "directory", dir),
      level: "directory",
      path: dir,
      content: summarizeDirectory(dir, list, [...(subdirs.get(dir) ?? [])].sort()),
    });
  }
  rows.push({ id: await summaryId(projectId, "project", ""), level: "project", path: "", content: summarizeProject(projectName, readmeText, files) });
  return rows;
}

/** Replaces the directory and project summaries and their search rows (file rows stay). */
export function writeSummaries(sql: SqlStorage, rows: DerivedSummary[]): void {
  sql.exec("DELETE FROM summaries");
  sql.exec("DELETE FROM summaries_fts WHERE level != 'file'");
  for (const r of rows)
    sql.exec(
      "INSERT INTO summaries (id, level, path, content, tokens_cl) VALUES (?, ?, ?, ?, ?)",
      r.id,
      r.level,
      r.path,
      r.content,
      countWith("cl100k_base", r.content),
    );
  for (const r of rows) {
    if (r.level === "directory")
      sql.exec(
        "INSERT INTO summaries_fts (level, path, body, path_terms) VALUES ('directory', ?, ?, ?)",
        r.path,
        termsOf(r.content).join(" "),
        pathTerms(r.path).join(" "),
      );
  }
}

/** Rebuilds the file graph: imports resolved to files, and uses of names defined in only a few files. */
export function rebuildEdges(sql: SqlStorage, lookup: PathLookup): void {
  sql.exec("DELETE FROM edges");
  for (const s of sql.exec<{ path: string; name: string }>("SELECT path, name FROM symbols WHERE kind = 'import'")) {
    for (const target of resolveImport(s.path, s.name, lookup))
      if (target !== s.path) sql.exec("INSERT OR IGNORE INTO edges (from_path, to_path) VALUES (?, ?)", s.path, target);
  }
  // A file that uses a name defined in only a few other files depends on them; names defined
  // everywhere ("get", "run") link nothing in particular.
  sql.exec(`
    INSERT OR IGNORE INTO edges (from_path, to_path)
    SELECT r.path, d.path FROM symbols r JOIN symbols d ON d.name = r.name AND d.kind = 'def'
    WHERE r.kind = 'ref' AND r.path != d.path
      AND r.name IN (SELECT name FROM symbols WHERE kind = 'def' GROUP BY name HAVING count(DISTINCT path) <= ${LINK_MAX_DEFINERS})`);
}

/** Rebuilds summaries and the graph and clears the stale mark; returns the summaries for the D1 mirror. */
export async function rebuildDerived(sql: SqlStorage, lookup: () => PathLookup): Promise<{ projectId: string; rows: DerivedSummary[] }> {
  const files = sql.exec<FileHead>("SELECT path, head, summary FROM files ORDER BY path").toArray();
  const projectId = readMeta(sql, "project_id") ?? "";
  const readme = files.find((f) => /^readme(\.[a-z]+)?$/i.test(f.path));
  const readmeText = readme
    ? sql.exec<{ text: string }>("SELECT text FROM chunks WHERE path = ? ORDER BY ordinal LIMIT 1", readme.path).toArray()[0]?.text
    : undefined;
  const rows = await summarizeTree(projectId, readMeta(sql, "project_name") ?? "project", files, readmeText);
  writeSummaries(sql, rows);
  rebuildEdges(sql, lookup());
  writeMeta(sql, "derived_dirty", "0");
  return { projectId, rows };
}
