/**
 * Code-aware terms for lexical search: identifiers are kept whole (lower-cased) and also split on
 * camelCase, snake_case, kebab-case, digits and path separators, so "parseHttpRequest" matches
 * "parse", "http", "request" and "parsehttprequest".
 */

// Words too common in prompts and code to say anything about where to look.
const STOP = new Set(
  (
    "a an and are as at be but by can do does for from has have how i if in into is it its me my no not of on or our so " +
    "that the their them then there these this to use using was we what when where which while will with would you your " +
    "please make add change update fix should could also new get set let const var function return true false null undefined " +
    "import export default class public private static void int string self def end"
  ).split(" "),
);

const IDENT = /[\p{L}_$][\p{L}\p{N}_$]*|\p{N}+/gu;

/** Parts of one identifier: `parseHTTPRequest_v2` → parse, http, request, v2. */
export function splitIdentifier(id: string): string[] {
  return id
    .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, "$1 $2")
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, "$1 $2")
    .split(/[\s_$]+/u)
    .map((p) => p.toLowerCase())
    .filter((p) => p.length > 1);
}

// Identifiers whose terms are kept between calls: prompts repeat their names (a traceback's frames), and
// an isolate's later prompts and excerpts meet the same ones. Emptied when full.
const NAME_TERMS_MAX = 100_000;
const nameTerms = new Map<string, readonly string[]>();

/** The terms of one identifier (one match of IDENT): itself lower-cased, and its parts when it has several. */
export function termsOfName(id: string): readonly string[] {
  let terms = nameTerms.get(id);
  if (!terms) {
    const whole = id.toLowerCase();
    const parts = splitIdentifier(id);
    terms = [...(whole.length > 1 ? [whole] : []), ...(parts.length > 1 ? parts : [])];
    if (nameTerms.size >= NAME_TERMS_MAX) nameTerms.clear();
    nameTerms.set(id, terms);
  }
  return terms;
}

/** Every term of `text`, whole identifiers and their parts, lower-cased, in order (with repeats). */
export function termsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IDENT)) for (const t of termsOfName(m[0])) out.push(t);
  return out;
}

/** Distinct query terms of a prompt, without stop words, most specific (longest) first. */
export function queryTerms(prompt: string, max = 48): string[] {
  return distinctQueryTerms(termsOf(prompt), max);
}

function distinctQueryTerms(terms: readonly string[], max: number): string[] {
  const seen = new Set<string>();
  for (const t of terms) if (!STOP.has(t) && t.length > 1 && !/^\d+$/.test(t)) seen.add(t);
  return [...seen].sort((a, b) => b.length - a.length).slice(0, max);
}

// A term in more than this share of chunks says little about where to look.
const COMMON_SHARE = 0.1;

export type TermStats = (terms: string[]) => { chunks: number; df: Map<string, number> };

/** `stats` asked once per term: a later question about terms already asked (a title's, after its report's) reads no index. */
export function askedOnce(stats: TermStats): TermStats {
  const df = new Map<string, number>();
  const asked = new Set<string>();
  let chunks = 0;
  return (terms) => {
    const fresh = terms.filter((t) => !asked.has(t));
    if (fresh.length > 0 || asked.size === 0) {
      const r = stats(fresh);
      chunks = r.chunks;
      for (const t of fresh) {
        asked.add(t);
        const n = r.df.get(t);
        if (n !== undefined) df.set(t, n);
      }
    }
    return { chunks, df };
  };
}

/**
 * The prompt's terms worth a search, by what the index knows of them: terms no chunk holds are
 * dropped, common ones too (unless little else is left), and the rest go by weight — a long bug
 * report names hundreds of words, and the few that are rare in this project say where the bug is.
 * A term weighs its inverse document frequency, more when the report repeats it, and more again in
 * the report's title.
 */
export function weighedQueryTerms(prompt: string, stats: TermStats, max = 40): string[] {
  const all = termsOf(prompt);
  const candidates = distinctQueryTerms(all, Number.POSITIVE_INFINITY);
  if (candidates.length === 0) return [];
  const { chunks, df } = stats(candidates);
  const present = candidates.filter((t) => (df.get(t) ?? 0) > 0);
  const rare = present.filter((t) => (df.get(t) ?? 0) <= chunks * COMMON_SHARE);
  const pool = rare.length >= 5 ? rare : present;
  const seen = new Map<string, number>();
  for (const t of all) seen.set(t, (seen.get(t) ?? 0) + 1);
  const title = new Set(termsOf(titleOf(prompt)));
  const weight = (t: string): number => Math.log(chunks / (df.get(t) ?? 1)) * (1 + Math.log(seen.get(t) ?? 1)) * (title.has(t) ? TITLE_WEIGHT : 1);
  const w = new Map(pool.map((t) => [t, weight(t)]));
  return pool.sort((a, b) => (w.get(b) ?? 0) - (w.get(a) ?? 0) || b.length - a.length).slice(0, max);
}

// A term of the title counts as if it were this much rarer.
const TITLE_WEIGHT = 2;

/** A report's title: its first line, when more follow (a one-line prompt has no title apart from itself). */
export function titleOf(prompt: string): string {
  const lines = prompt.trim().split("\n");
  return lines.length > 1 ? (lines[0] as string) : "";
}

/** Terms of a path: its directories, file name, stem and their identifier parts. */
export function pathTerms(path: string): string[] {
  return termsOf(path.replace(/[/.\\-]/g, " "));
}

/** Identifiers as written in the prompt (camelCase, snake_case, dotted), for exact symbol lookup. */
export function promptIdentifiers(prompt: string): string[] {
  const out = new Set<string>();
  for (const m of prompt.matchAll(/[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*/g)) {
    for (const part of m[0].split(".")) {
      // Plain lower-case words are rarely symbols; keep identifiers with a case change, underscore or digit.
      if (part.length > 2 && (/[A-Z_$0-9]/.test(part.slice(1)) || /^[A-Z]/.test(part))) out.add(part);
    }
  }
  return [...out];
}

// A lower-case name reached through a value or a module (`xr.where`, `tokio::spawn`, `foo().bar`), not a path's
// part or a host's (`src/lib.rs`, `example.com`).
const MEMBER = /(?<=[\w$)\]](?:\.|::))[a-z_$][\w$]*(?![\w$]|\/)/g;
const NOT_MEMBER = new Set(
  (
    "py pyi ipynb js mjs cjs ts tsx jsx rs go java kt md rst txt toml yaml yml json cfg ini html htm css csv lock sh xml " +
    "gradle log pdf png jpg svg com org net io dev edu gov www"
  ).split(" "),
);
// A macro called (`select!(`, `vec![`) and an attribute's name, its path aside (`#[instrument]`, `#[tokio::main]`).
const MACRO = /(?<![\w$])([a-z_]\w*)!\s*[([{]/g;
const ATTRIBUTE = /#!?\[(?:\w+::)*([a-z_]\w*)/g;
// A fenced code block (to the prompt's end when unclosed).
const CODE_BLOCK = /```[\s\S]*?(?:```|$)/g;

/**
 * Symbols the prompt's prose uses as code that read as plain words, which `promptIdentifiers` leaves out: members
 * it calls or reads (`xr.where`, `tokio::spawn`), macros it calls (`select!`) and attributes (`#[instrument]`). Worth
 * a definition lookup, which passes over names many files define. Not from its code blocks: an example's every
 * call (`res.send(result)`) would outrank the code the report is about.
 */
export function plainWordSymbols(prompt: string): string[] {
  const out = new Set<string>();
  const prose = prompt.replace(CODE_BLOCK, " ");
  for (const [member] of prose.matchAll(MEMBER)) if (!NOT_MEMBER.has(member)) out.add(member);
  for (const m of [...prose.matchAll(MACRO), ...prose.matchAll(ATTRIBUTE)]) out.add(m[1] as string);
  return [...out].filter((name) => name.length > 2);
}

// Error lines as programs print them: `ValueError: cannot convert 'x' to float`, `error[E0277]: …`, `panic: …`.
const ERROR_LINE = /^\s*(?:[\w.]*(?:Error|Exception|Warning|Failure)|error(?:\[\w+\])?|panic|fatal|FATAL|ERROR)\s*:\s*(.+)$/gm;
const MIN_PHRASE_WORDS = 3;
const MAX_PHRASES = 6;

/**
 * Phrases from the error messages a prompt quotes: the longest runs of plain words in each (values in
 * quotes, numbers and paths vary between runs, so they split a message). The program that printed the
 * message holds the same words in the same order.
 */
export function errorPhrases(prompt: string): string[] {
  const out = new Set<string>();
  for (const m of prompt.matchAll(ERROR_LINE)) {
    const message = (m[1] ?? "").replace(/(['"`]).*?\1|\S*[\\/\d]\S*/g, " | ");
    const runs = message
      .split(/[^A-Za-z_ ]+/)
      .map((r) => r.trim().split(/\s+/).filter(Boolean))
      .filter((words) => words.length >= MIN_PHRASE_WORDS);
    for (const words of runs.sort((a, b) => b.length - a.length).slice(0, 2)) out.add(words.slice(0, 12).join(" ").toLowerCase());
    if (out.size >= MAX_PHRASES) break;
  }
  return [...out];
}
