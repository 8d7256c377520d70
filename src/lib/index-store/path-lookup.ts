/** The path-suffix index of the shard's files, and import resolution over it. */
import { directoryOf, nameOf } from "../retrieval/directory";
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
  const { exact, suffixes, packages, rooted } = importTargets(from, spec, languageOf(from));
  for (const e of exact) if (lookup.set.has(e)) return [e];
  if (packages) return fewOf(goPackage(packages, lookup) ?? []);
  // Where the suffix starts inside a package (`astropy/` holds an `__init__.py`), it names that package's module.
  const topLevel = (hit: string, suffix: string): boolean => {
    const prefix = hit.slice(0, hit.length - suffix.length);
    return prefix === "" || !lookup.set.has(`${prefix}__init__.py`);
  };
  for (const s of suffixes) {
    const hits = (lookup.bySuffix.get(s) ?? []).filter((h) => !rooted || topLevel(h, s));
    // An ambiguous suffix (many files end the same way) says little; keep only close matches.
    if (hits.length > 0 && hits.length <= 3) return hits;
  }
  return [];
}

// A Go package of more files than this links only through the file named like it.
const PACKAGE_FILES_MAX = 3;

/** A package's files when they are few, else the one named like its directory (`resolver/resolver.go`), if any. */
function fewOf(files: string[]): string[] {
  if (files.length <= PACKAGE_FILES_MAX) return files;
  const name = `${nameOf(directoryOf(files[0] ?? ""))}.go`;
  return files.filter((p) => nameOf(p) === name);
}

/**
 * The non-test files of the Go package the first of `dirs` (an import path's tails, `goPackageDirs`) with Go
 * files names: the directory of that path from the project's root, else (a module in a subdirectory, a vendored
 * one) the directories ending so, when the tail has two elements or more (one name alone, `errors`, is too
 * common to find elsewhere). Undefined when no tail names one.
 */
function goPackage(dirs: string[], lookup: Pick<PathLookup, "bySuffix">): string[] | undefined {
  for (const dir of dirs) {
    const source = (lookup.bySuffix.get(`${dir}/`) ?? []).filter((p) => p.endsWith(".go") && !p.endsWith("_test.go"));
    const atRoot = source.filter((p) => directoryOf(p) === dir);
    const files = atRoot.length > 0 || !dir.includes("/") ? atRoot : source;
    if (files.length > 0) return files;
  }
  return undefined;
}
