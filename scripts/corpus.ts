/**
 * Builds a real source corpus of at least `minTokens` (cl100k_base) from packages this repository
 * already installs (pinned by package-lock.json, so the corpus is the same on every machine):
 * TypeScript and JavaScript sources, type declarations and docs of real libraries, each at a path ingestion
 * keeps (so a project ingested from it indexes every token counted here).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { writeTar } from "../src/lib/archive";
import { buildIgnoreRules } from "../src/lib/chunker/ignore-rules";
import { getEncoding } from "../src/lib/tokenizer";

export type Corpus = {
  archive: Buffer;
  files: { path: string; text: string }[];
  bytes: number;
  /** cl100k_base tokens of all files (our tokenizer, which the tokenizer tests hold equal to tiktoken's). */
  tokens: number;
};

// Roots in a fixed order; the corpus takes whole packages until it has enough tokens.
const ROOTS = [
  "node_modules/@anthropic-ai/sdk/src",
  "node_modules/zod/src",
  "node_modules/hono/dist/types",
  "node_modules/drizzle-orm",
  "node_modules/typescript/lib",
  "node_modules/vitest/dist",
  // Past ~2.4M tokens (the 5M-token benchmark project), every other installed package, in path order.
  "node_modules",
];
const EXTENSIONS = [".ts", ".mts", ".cts", ".js", ".mjs", ".md"];
// Per-file cap, under the server's default 1 MiB limit so every file is indexed.
const MAX_FILE_BYTES = 400_000;

function* walk(dir: string): Generator<string> {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return;
  }
  for (const name of names) {
    // Test fixtures are left out: one zod test holds a long run that takes js-tiktoken ~50 s
    // (quadratic merge), which would make the js-tiktoken baseline meaningless.
    if (name === "tests" || name === "__tests__" || name === "test" || name.endsWith(".min.js")) continue;
    const full = join(dir, name);
    const info = statSync(full);
    if (info.isDirectory()) yield* walk(full);
    else if (info.isFile() && info.size <= MAX_FILE_BYTES && EXTENSIONS.some((e) => name.endsWith(e))) yield full;
  }
}

const ignoreRules = buildIgnoreRules([]);

/**
 * The path under which ingestion keeps a file: its default ignore list leaves out build output such as `dist/`
 * (a 10M-token corpus would index only about 8M), so an ignored directory is renamed (`dist` → `dist-kept`),
 * the text unchanged; null for a file ignored by its own name.
 */
function keptPath(path: string): string | null {
  const segs = path.split("/");
  for (let i = 0; i < segs.length - 1; i++) if (ignoreRules.isIgnored(`${segs.slice(0, i + 1).join("/")}/`)) segs[i] = `${segs[i]}-kept`;
  const renamed = segs.join("/");
  return ignoreRules.isIgnored(renamed) ? null : renamed;
}

export function buildCorpus(minTokens: number, root = process.cwd()): Corpus {
  const enc = getEncoding("cl100k_base");
  const files: { path: string; text: string }[] = [];
  let tokens = 0;
  let bytes = 0;
  const seen = new Set<string>();
  outer: for (const base of ROOTS) {
    for (const full of walk(join(root, base))) {
      if (seen.has(full)) continue;
      seen.add(full);
      const text = readFileSync(full, "utf8");
      if (text.includes("\0") || text.includes("\uFFFD")) continue;
      const path = keptPath(relative(join(root, "node_modules"), full).split("\\").join("/"));
      if (path === null) continue;
      files.push({ path, text });
      tokens += enc.count(text);
      bytes += Buffer.byteLength(text);
      if (tokens >= minTokens) break outer;
    }
  }
  if (tokens < minTokens) throw new Error(`only ${tokens} tokens available for the corpus`);
  const archive = gzipSync(writeTar(files.map((f) => ({ path: f.path, bytes: new TextEncoder().encode(f.text) }))));
  return { archive, files, bytes, tokens };
}
