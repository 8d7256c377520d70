/** A name's definitions, references and imports from the shard's symbol graph (src/lib/retrieval/symbols.ts). */
import type { SymbolKind } from "../retrieval/symbols";

export type SymbolHit = { path: string; line: number; kind: SymbolKind; signature: string };
export type SymbolMatches = { name: string; definitions: SymbolHit[]; references: SymbolHit[]; imports: SymbolHit[]; truncated: boolean };

/**
 * Where `name` is defined, used and imported, `limit` of each kind at most, by path and line. An exact
 * name first; when nothing matches exactly, the same name in any case.
 */
export function findSymbol(sql: SqlStorage, name: string, limit: number): SymbolMatches {
  const query = (collate: string) =>
    sql
      .exec<{ path: string; line: number; kind: SymbolKind; signature: string; name: string }>(
        `SELECT path, line, kind, signature, name FROM (
           SELECT *, row_number() OVER (PARTITION BY kind ORDER BY path, line) AS n FROM symbols WHERE name = ?1 ${collate}
         ) WHERE n <= ?2 + 1 ORDER BY kind, path, line`,
        name,
        limit,
      )
      .toArray();
  let rows = query("");
  if (rows.length === 0) rows = query("COLLATE NOCASE");
  const of = (kind: SymbolKind) => rows.filter((r) => r.kind === kind).map(({ path, line, kind, signature }) => ({ path, line, kind, signature }));
  const [definitions, references, imports] = [of("def"), of("ref"), of("import")];
  const truncated = [definitions, references, imports].some((xs) => xs.length > limit);
  return {
    name: rows[0]?.name ?? name,
    definitions: definitions.slice(0, limit),
    references: references.slice(0, limit),
    imports: imports.slice(0, limit),
    truncated,
  };
}
