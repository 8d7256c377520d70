/** The path-suffix index of the shard's files, and import resolution over it. */
import { importTargets, languageOf } from "../retrieval/symbols";

export type PathLookup = { list: string[]; set: Set<string>; bySuffix: Map<string, string[]> };

/** Every path under each of its suffixes ("a/b/c.ts", "b/c.ts", "c.ts") and its directories' suffixes ("a/b/", "b/"). */
export function buildPathLookup(list: string[]): PathLookup {
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
  return { list, set: new Set(list), bySuffix };
}

/** The shard's lookup and its files' sizes, each read from `files` on first use and kept until the files change. */
export class PathCache {
  private lookup: PathLookup | undefined;
  private sizes: Map<string, number> | undefined;

  constructor(private readonly sql: SqlStorage) {}

  get(): PathLookup {
    this.lookup ??= buildPathLookup(
      this.sql
        .exec<{ path: string }>("SELECT path FROM files ORDER BY path")
        .toArray()
        .map((r) => r.path),
    );
    return this.lookup;
  }

  /** Each file's tokens (cl100k_base), by path. */
  tokens(): Map<string, number> {
    this.sizes ??= new Map(
      this.sql
        .exec<{ path: string; tokens_cl: number }>("SELECT path, tokens_cl FROM files")
        .toArray()
        .map((r) => [r.path, r.tokens_cl]),
    );
    return this.sizes;
  }

  invalidate(): void {
    this.lookup = undefined;
    this.sizes = undefined;
  }
}

/** The files an import names: an exact target if one exists, else the few files a suffix matches. */
export function resolveImport(from: string, spec: string, lookup: Pick<PathLookup, "set" | "bySuffix">): string[] {
  const { exact, suffixes } = importTargets(from, spec, languageOf(from));
  for (const e of exact) if (lookup.set.has(e)) return [e];
  for (const s of suffixes) {
    const hits = lookup.bySuffix.get(s);
    // An ambiguous suffix (many files end the same way) says little; keep only close matches.
    if (hits && hits.length <= 3) return hits;
  }
  return [];
}
