/**
 * Files a prompt names: paths as written (absolute paths of an installed copy, paths relative to some
 * other root, traceback frames with their line numbers) and dotted module names, matched against the
 * project's paths by their longest common suffix. A bare file name counts only when few files have it.
 */

/** Every project path under each of its suffixes ("a/b/c.ts", "b/c.ts", "c.ts"). */
export type SuffixIndex = { bySuffix: Map<string, string[]> };

export type PathMention = { path: string; line?: number };

const FILE_PATH = /(?:[A-Za-z]:)?(?:[\w@+.-]*[/\\])+[\w@+.-]+\.[A-Za-z]\w{0,5}\b(?:["']?,? line (\d+)|:(\d+))?/g;
const BARE_FILE =
  /(?<![\w/\\.-])[\w-]+\.(?:py|pyx|js|mjs|cjs|jsx|ts|tsx|go|rs|java|kt|scala|rb|php|c|cc|cpp|cxx|h|hpp|cs|swift|m|mm|vue|svelte|ex|exs|erl|hs|ml|lua|pl|r|jl|dart|zig)\b(?:["']?,? line (\d+)|:(\d+))?/g;
const MODULE = /\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*){1,8}\b/g;
// A bare name shared by more files than this says nothing (`__init__.py`, `index.js`).
const MAX_BARE_MATCHES = 3;
const MODULE_EXTENSIONS = [".py", ".rs", ".go", ".java", ".kt", ".rb", ".js", ".ts"];

/** The project paths with the longest suffix in common with `written` (at least the file name). */
function bySuffix(lookup: SuffixIndex, written: string): string[] {
  const parts = written
    .replace(/\\/g, "/")
    .split("/")
    .filter((p) => p && p !== "." && p !== "..");
  for (let i = 0; i < parts.length; i++) {
    const hit = lookup.bySuffix.get(parts.slice(i).join("/"));
    if (hit && hit.length > 0) return i === parts.length - 1 && hit.length > MAX_BARE_MATCHES ? [] : hit;
  }
  return [];
}

/** The files a module's path stands for (`a/b` → `a/b.py`, `a/b/__init__.py`, `a/b/mod.rs`…), when few do. */
function moduleFile(lookup: SuffixIndex, stem: string): string[] | undefined {
  for (const ext of MODULE_EXTENSIONS) {
    const hit = lookup.bySuffix.get(`${stem}${ext}`) ?? lookup.bySuffix.get(`${stem}/__init__.py`) ?? lookup.bySuffix.get(`${stem}/mod.rs`);
    if (hit && hit.length <= MAX_BARE_MATCHES) return hit;
  }
  return undefined;
}

/** Files named in the prompt, in order of first mention, each with the first line number given for it. */
export function mentionedPaths(prompt: string, lookup: SuffixIndex): PathMention[] {
  const out = new Map<string, PathMention>();
  const add = (paths: string[], line: string | undefined): void => {
    for (const path of paths) {
      const known = out.get(path);
      if (!known) out.set(path, line ? { path, line: Number(line) } : { path });
      else if (known.line === undefined && line) known.line = Number(line);
    }
  };
  for (const m of prompt.matchAll(FILE_PATH)) add(bySuffix(lookup, m[0].replace(/["']?,? line \d+$|:\d+$/, "")), m[1] ?? m[2]);
  for (const m of prompt.matchAll(BARE_FILE)) add(bySuffix(lookup, m[0].replace(/["']?,? line \d+$|:\d+$/, "")), m[1] ?? m[2]);
  // A dotted name may go on past its module to what it holds (`sympy.core.mod.Mod`, `org.acme.Widget.build`): its
  // longest leading part that names a module does.
  for (const m of prompt.matchAll(MODULE)) {
    const parts = m[0].split(".");
    for (let n = parts.length; n >= 2; n--) {
      const hit = moduleFile(lookup, parts.slice(0, n).join("/"));
      if (hit) {
        add(hit, undefined);
        break;
      }
    }
  }
  return [...out.values()];
}
