/**
 * Definitions, imports and references per file: from tree-sitter syntax trees for TypeScript,
 * JavaScript, Python, Go, Rust and Java, and from line patterns (definitions and imports) for every
 * other language and for files too large to parse.
 */
import { directoryOf, nameOf } from "./directory";
import { extractWithTreeSitter } from "./tree-sitter/extract";

export type SymbolKind = "def" | "import" | "ref";
export type FileSymbol = { name: string; kind: SymbolKind; line: number; signature: string };
export type Language = "ts" | "py" | "go" | "rs" | "java" | "other";

export function languageOf(path: string): Language {
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  if (["ts", "tsx", "mts", "cts", "js", "jsx", "mjs", "cjs"].includes(ext)) return "ts";
  if (ext === "py" || ext === "pyi") return "py";
  if (ext === "go") return "go";
  if (ext === "rs") return "rs";
  if (ext === "java" || ext === "kt" || ext === "scala") return "java";
  return "other";
}

type Rule = { re: RegExp; kind: SymbolKind; group: number };

const RULES: Record<Language, Rule[]> = {
  ts: [
    { re: /^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)/, kind: "def", group: 1 },
    { re: /^\s*(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+([A-Za-z_$][\w$]*)/, kind: "def", group: 1 },
    { re: /^\s*(?:export\s+)?(?:declare\s+)?(?:interface|type|enum|namespace)\s+([A-Za-z_$][\w$]*)/, kind: "def", group: 1 },
    { re: /^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=/, kind: "def", group: 1 },
    {
      re: /^\s+(?:public\s+|private\s+|protected\s+|static\s+|async\s+|readonly\s+|override\s+)*([A-Za-z_$][\w$]*)\s*(?:<[^>]*>)?\([^)]*\)\s*(?::\s*[^{]+)?\{\s*$/,
      kind: "def",
      group: 1,
    },
    { re: /(?:^|\s)(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/, kind: "import", group: 1 },
    { re: /^\s*import\s+['"]([^'"]+)['"]/, kind: "import", group: 1 },
    { re: /require\(\s*['"]([^'"]+)['"]\s*\)/, kind: "import", group: 1 },
  ],
  py: [
    { re: /^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)/, kind: "def", group: 1 },
    { re: /^\s*class\s+([A-Za-z_]\w*)/, kind: "def", group: 1 },
    { re: /^([A-Z_][A-Z0-9_]*)\s*(?::[^=]+)?=/, kind: "def", group: 1 },
    { re: /^\s*from\s+([.\w]+)\s+import/, kind: "import", group: 1 },
    { re: /^\s*import\s+([\w.]+)/, kind: "import", group: 1 },
  ],
  go: [
    { re: /^func\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)/, kind: "def", group: 1 },
    { re: /^type\s+([A-Za-z_]\w*)/, kind: "def", group: 1 },
    { re: /^\s*(?:var|const)\s+([A-Za-z_]\w*)/, kind: "def", group: 1 },
    { re: /^\s*(?:import\s+)?(?:[A-Za-z_]\w*\s+)?"([^"]+)"\s*$/, kind: "import", group: 1 },
  ],
  rs: [
    { re: /^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:unsafe\s+)?(?:const\s+)?fn\s+([A-Za-z_]\w*)/, kind: "def", group: 1 },
    { re: /^\s*(?:pub(?:\([^)]*\))?\s+)?(?:struct|enum|trait|type|mod|union|macro_rules!)\s*([A-Za-z_]\w*)/, kind: "def", group: 1 },
    { re: /^\s*(?:pub(?:\([^)]*\))?\s+)?(?:const|static)\s+([A-Z_][A-Z0-9_]*)/, kind: "def", group: 1 },
    { re: /^\s*impl(?:<[^>]*>)?\s+(?:[\w:]+\s+for\s+)?([A-Za-z_]\w*)/, kind: "def", group: 1 },
    { re: /^\s*(?:pub\s+)?use\s+([\w:]+)/, kind: "import", group: 1 },
    { re: /^\s*(?:pub\s+)?mod\s+([A-Za-z_]\w*)\s*;/, kind: "import", group: 1 },
  ],
  java: [
    {
      re: /^\s*(?:(?:public|private|protected|static|final|abstract|sealed|data|open|internal)\s+)*(?:class|interface|enum|record|object|trait)\s+([A-Za-z_]\w*)/,
      kind: "def",
      group: 1,
    },
    {
      re: /^\s*(?:(?:public|private|protected|static|final|abstract|synchronized|native|override|suspend)\s+)+(?:<[^>]+>\s+)?[\w<>[\],.? ]+?\s+([a-z_]\w*)\s*\(/,
      kind: "def",
      group: 1,
    },
    { re: /^\s*(?:fun|def)\s+(?:<[^>]+>\s+)?(?:[\w.]+\.)?([A-Za-z_]\w*)\s*\(/, kind: "def", group: 1 },
    { re: /^\s*import\s+(?:static\s+)?([\w.]+)/, kind: "import", group: 1 },
  ],
  other: [
    { re: /^\s*(?:function|def|fn|func|sub|proc|class|struct|module|interface)\s+([A-Za-z_][\w]*)/, kind: "def", group: 1 },
    { re: /^\s*#\s*include\s+["<]([^">]+)[">]/, kind: "import", group: 1 },
  ],
};

// A line longer than this is minified or data; scanning it for definitions finds nothing useful.
const MAX_LINE = 400;

/** The file's symbols: tree-sitter where a grammar covers it, the line patterns otherwise. */
export async function extractSymbols(path: string, text: string): Promise<FileSymbol[]> {
  return (await extractWithTreeSitter(path, text)) ?? extractSymbolsByLine(path, text);
}

/** Definitions and imports found by per-language line patterns. */
export function extractSymbolsByLine(path: string, text: string): FileSymbol[] {
  const rules = RULES[languageOf(path)];
  const out: FileSymbol[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.length > MAX_LINE || line.trim() === "") continue;
    for (const rule of rules) {
      const m = rule.re.exec(line);
      const name = m?.[rule.group];
      if (!name || KEYWORDS.has(name)) continue;
      out.push({ name, kind: rule.kind, line: i + 1, signature: line.trim().slice(0, 160) });
      if (rule.kind === "def") break;
    }
  }
  return out;
}

const KEYWORDS = new Set(["if", "for", "while", "switch", "catch", "return", "function", "constructor", "else", "new", "super", "this"]);

/**
 * Candidate paths an import specifier may resolve to, tried against the project's files.
 * Relative specifiers resolve against the importing file; package-style ones by path suffix. `rooted`: a
 * suffix names a file only where it starts at a top-level package (Python's `import io` is not
 * `astropy/io/__init__.py`, which is `astropy.io`). `packages`: a Go import's directories (`goPackageDirs`).
 */
export function importTargets(fromPath: string, spec: string, lang: Language): { exact: string[]; suffixes: string[]; packages?: string[]; rooted?: boolean } {
  const dir = directoryOf(fromPath);
  if (lang === "ts") {
    if (!spec.startsWith(".")) return { exact: [], suffixes: [] };
    const base = normalize(`${dir}/${spec}`).replace(/\.(js|mjs|cjs|jsx)$/, "");
    const exts = [".ts", ".tsx", ".js", ".jsx", ".mts", ".mjs", "/index.ts", "/index.tsx", "/index.js"];
    return { exact: [normalize(`${dir}/${spec}`), ...exts.map((e) => base + e)], suffixes: [] };
  }
  if (lang === "py") {
    const dots = /^\.*/.exec(spec)?.[0].length ?? 0;
    const rest = spec.slice(dots).replace(/\./g, "/");
    if (dots > 0) {
      const up = dir.split("/").slice(0, Math.max(0, dir.split("/").length - (dots - 1)));
      const base = normalize([...up, rest].filter(Boolean).join("/"));
      return { exact: [`${base}.py`, `${base}/__init__.py`], suffixes: [] };
    }
    return { exact: [], suffixes: [`${rest}.py`, `${rest}/__init__.py`], rooted: true };
  }
  if (lang === "go") return { exact: [], suffixes: [], packages: goPackageDirs(spec) };
  if (lang === "rs") {
    // The standard library's crates are never the project's files (tokio's `loom/std/mod.rs`, `task/core.rs`).
    const segments = spec.split("::");
    if (RUST_STANDARD.has(segments[0] ?? "")) return { exact: [], suffixes: [] };
    // `mod name;` declares a file beside the module's own: `name.rs` or `name/mod.rs` in the module's directory.
    const file = nameOf(fromPath);
    const moduleDir = ["lib.rs", "main.rs", "mod.rs"].includes(file) ? dir : `${dir}/${file.replace(/\.rs$/, "")}`;
    const exact = /^\w+$/.test(spec) ? [`${moduleDir}/${spec}.rs`, `${moduleDir}/${spec}/mod.rs`].map(normalize) : [];
    const parts = segments.filter((p) => !["crate", "self", "super"].includes(p));
    const candidates: string[] = [];
    for (let n = parts.length; n >= 1; n--) {
      const p = parts.slice(0, n).join("/");
      candidates.push(`${p}.rs`, `${p}/mod.rs`);
    }
    return { exact, suffixes: candidates };
  }
  if (lang === "java") {
    const parts = spec.split(".");
    return { exact: [], suffixes: [`${parts.join("/")}.java`, `${parts.join("/")}.kt`, `${parts.slice(0, -1).join("/")}.java`] };
  }
  return { exact: [normalize(`${dir}/${spec}`)], suffixes: [spec] };
}

const RUST_STANDARD = new Set(["std", "core", "alloc"]);

/**
 * The directories a Go import path may name in the project, most specific first: each of its tails
 * ("google.golang.org/grpc/serviceconfig" → "grpc/serviceconfig", "serviceconfig"), since the module's own
 * path is a prefix the tree does not have. A path whose first element has no dot is the standard library's
 * ("net/http", "context"): only its tails of two or more elements, so that "context" is never a project's
 * `context/`.
 */
function goPackageDirs(spec: string): string[] {
  const parts = spec.split("/").filter(Boolean);
  const standard = !parts[0]?.includes(".");
  const shortest = standard ? 2 : 1;
  const out: string[] = [];
  for (let k = 0; parts.length - k >= shortest; k++) out.push(parts.slice(k).join("/"));
  return out;
}

function normalize(path: string): string {
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return out.join("/");
}
