/**
 * Offline hierarchical summaries, computed from the code itself: a file's header comment or docstring
 * and its definitions with signatures (Markdown: its headings and first paragraph); a directory's
 * files and subdirectories; the project's README opening, languages and layout.
 */
import { sha256Hex } from "../crypto/hash";
import { nameOf } from "./directory";
import type { FileSymbol } from "./symbols";

/** Stable id of a summary: the same level and path of the same project always get the same id. */
export async function summaryId(projectId: string, level: "file" | "directory" | "project", path: string): Promise<string> {
  return `sum_${(await sha256Hex(`${projectId}\0${level}\0${path}`)).slice(0, 32)}`;
}

// Summaries are meant to be cheap filler: a file summary stays within ~600 characters (~150 tokens).
const FILE_SUMMARY_CHARS = 600;
const DIR_SUMMARY_CHARS = 1200;
const PROJECT_SUMMARY_CHARS = 3000;

export function summarizeFile(path: string, text: string, symbols: FileSymbol[]): string {
  const head = headerComment(path, text);
  const lines = [`${path}${head ? ` — ${head}` : ""}`];
  if (/\.(md|mdx|markdown|rst|txt)$/i.test(path)) {
    const headings = text
      .split("\n")
      .filter((l) => /^#{1,3}\s/.test(l))
      .map((l) => l.replace(/^#+\s*/, "").trim())
      .slice(0, 12);
    if (headings.length) lines.push(`sections: ${headings.join("; ")}`);
  } else {
    const defs = symbols.filter((s) => s.kind === "def").map((s) => s.signature.replace(/\s*\{\s*$/, ""));
    if (defs.length) lines.push(`defines: ${defs.slice(0, 16).join("; ")}${defs.length > 16 ? `; … (${defs.length} in all)` : ""}`);
    const imports = [...new Set(symbols.filter((s) => s.kind === "import").map((s) => s.name))];
    if (imports.length) lines.push(`imports: ${imports.slice(0, 10).join(", ")}`);
  }
  return clip(lines.join("\n"), FILE_SUMMARY_CHARS);
}

/** The first explanatory comment, docstring or paragraph of a file, on one line. */
export function headerComment(path: string, text: string): string {
  const body = text.replace(/^#!.*\n/, "").trimStart();
  let m = /^\/\*\*?([\s\S]*?)\*\//.exec(body);
  if (m?.[1]) return oneLine(m[1].replace(/^\s*\*\s?/gm, ""));
  m = /^("""|''')([\s\S]*?)\1/.exec(body);
  if (m?.[2]) return oneLine(m[2]);
  const slashes = /^(?:\s*\/\/[^\n]*\n?)+/.exec(body);
  if (slashes) return oneLine(slashes[0].replace(/^\s*\/\/\s?/gm, ""));
  const hashes = /^(?:\s*#(?!include|!)[^\n]*\n?)+/.exec(body);
  if (hashes && !/\.(md|mdx|markdown)$/i.test(path)) return oneLine(hashes[0].replace(/^\s*#\s?/gm, ""));
  if (/\.(md|mdx|markdown|rst|txt)$/i.test(path)) {
    const para = body.split(/\n\s*\n/).find((p) => p.trim() && !/^#/.test(p.trim()));
    return para ? oneLine(para) : "";
  }
  return "";
}

export function summarizeDirectory(dir: string, files: { path: string; head: string }[], subdirs: string[]): string {
  const lines = [`${dir || "."}/ — ${files.length} files${subdirs.length ? `, ${subdirs.length} subdirectories` : ""}`];
  if (subdirs.length) lines.push(`subdirectories: ${subdirs.slice(0, 30).join(", ")}`);
  for (const f of files.slice(0, 40)) lines.push(`- ${nameOf(f.path)}${f.head ? `: ${clip(f.head, 100)}` : ""}`);
  return clip(lines.join("\n"), DIR_SUMMARY_CHARS);
}

export function summarizeProject(name: string, readme: string | undefined, files: { path: string }[]): string {
  const langs = new Map<string, number>();
  const tops = new Map<string, number>();
  for (const f of files) {
    const ext = f.path.includes(".") ? f.path.slice(f.path.lastIndexOf(".") + 1).toLowerCase() : "(none)";
    langs.set(ext, (langs.get(ext) ?? 0) + 1);
    const top = f.path.includes("/") ? `${f.path.slice(0, f.path.indexOf("/"))}/` : f.path;
    tops.set(top, (tops.get(top) ?? 0) + 1);
  }
  const byCount = (m: Map<string, number>, n: number): string =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${k} (${v})`)
      .join(", ");
  const lines = [`Project ${name}: ${files.length} files.`, `File types: ${byCount(langs, 8)}.`, `Top-level: ${byCount(tops, 20)}.`];
  if (readme) lines.push("", "README:", clip(readme.trim(), PROJECT_SUMMARY_CHARS - 400));
  return clip(lines.join("\n"), PROJECT_SUMMARY_CHARS);
}

function oneLine(s: string): string {
  return clip(s.replace(/\s+/g, " ").trim(), 240);
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}
