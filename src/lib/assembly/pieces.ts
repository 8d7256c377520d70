/** Pure functions that turn chunks and summaries into pieces: whole, excerpted, de-overlapped, prefixed. */
import { plainWordSymbols, promptIdentifiers, queryTerms, termsOfName } from "../retrieval/terms";
import { CLAUDE_TOKEN_FACTOR, type Tokenizer } from "../tokenizer";
import { forEachIdentifier, WordMatcher } from "./identifiers";
import { escapeMarkers, type RenderPiece, renderPiece, sourceLine } from "./prompt";
import type { ChunkBody, ContextPiece, PackedPiece, Signal, Summary } from "./types";

const PREVIEW_CHARS = 200;
const EST_CHARS_PER_TOKEN = 3.2;

/** A line's base tokens by the estimate windows are chosen with (code runs about 3.5 characters a token). */
const estimatedBase = (line: string): number => Math.ceil((line.length + 1) / EST_CHARS_PER_TOKEN);
/** A cap in model tokens as base tokens of the counter's tokenizer. */
const baseCap = (cap: number, tokenizer: Tokenizer): number => (tokenizer === "claude" ? Math.floor(cap / CLAUDE_TOKEN_FACTOR) : cap);

/** How pieces are counted: base-encoding tokens of a block, model tokens of a text. */
export type Counter = { readonly tokenizer: Tokenizer; base(s: string): number; modelCount(s: string): number; toModel(n: number): number };

/** A piece with its text's base-encoding tokens, from which the rest of its chunk may be counted by subtraction. */
export type CountedPiece = PackedPiece & { base: number };

/**
 * Whether a text counted apart adds up exactly with a newline-ended text before it. tiktoken's
 * pre-tokenizer (cl100k and o200k) joins a line break only with more line breaks or white space
 * before one, and o200k also with a "/" after punctuation ("{\n//"); so a text whose first line holds
 * something other than white space, and that does not start with "/", begins a new pre-token.
 */
export function startsCleanly(text: string): boolean {
  return /^[^\S\r\n]*\S/.test(text) && !text.startsWith("/");
}

/** Whether a piece's block counts as its source line plus its text: a clean start, a final newline, nothing to escape. */
function blockAddsUp(text: string): boolean {
  return text.endsWith("\n") && startsCleanly(text) && escapeMarkers(text) === text;
}

export const isCounted = (p: PackedPiece): p is CountedPiece => "base" in p;

/** A piece's block in the base encoding, given its text's: by addition where that is exact, else by rendering it. */
export function blockBase(piece: RenderPiece, counter: Pick<Counter, "base">, textBase: number): number {
  return blockAddsUp(piece.text) ? counter.base(sourceLine(piece)) + textBase : counter.base(renderPiece(piece));
}

/** Counts a piece: its text once, and its block by addition where that is exact, else by rendering it. */
export function countPiece(piece: RenderPiece, counter: Counter, base = counter.base(piece.text)): CountedPiece {
  return { piece, block: blockBase(piece, counter, base), tokens: counter.toModel(base), base };
}

/**
 * A chunk's lines in segments, each counted once in the base encoding: a segment opens at a line that
 * starts cleanly (and at the first line) and takes the lines after it that do not (blank lines, lines of
 * white space, lines opening with "/"). Entry i is the tokens of the segment opening at line i, or -1 for
 * a line inside one. Any run of whole segments then counts as the sum of theirs, with no text encoded.
 * Given a `limit`, counting stops at the segment whose sum passes it: the entries end before the next one.
 */
export function lineSegments(lines: readonly string[], counter: Pick<Counter, "base">, limit = Number.POSITIVE_INFINITY): Int32Array {
  const segs = new Int32Array(lines.length).fill(-1);
  let open = 0;
  let sum = 0;
  const close = (end: number): void => {
    segs[open] = counter.base(`${lines.slice(open, end).join("\n")}\n`);
    sum += segs[open] as number;
  };
  for (let i = 1; i < lines.length; i++) {
    if (!startsCleanly(lines[i] as string)) continue;
    close(i);
    if (sum > limit) return segs.subarray(0, i);
    open = i;
  }
  if (lines.length > 0) close(lines.length);
  return segs;
}

/**
 * A chunk's lines as excerpts see them: split at line breaks, without the empty string after a final one.
 * The last text's lines are kept: a chunk's excerpt, the lines around it and the rest split it in turn.
 */
export function chunkLines(text: string): readonly string[] {
  if (text !== lastSplit.text) {
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    lastSplit = { text, lines };
  }
  return lastSplit.lines;
}
let lastSplit: { text: string | undefined; lines: readonly string[] } = { text: undefined, lines: [] };

/**
 * Counts the piece made of the chunk's lines `from`..`to` (0-based, as `chunkLines` gives them) by adding
 * its whole segments' counts; only a segment cut by either end is encoded. The block adds up the same way
 * after its source line, which is counted together with the piece's opening part when that does not start
 * cleanly.
 */
export function countLines(piece: RenderPiece, lines: readonly string[], segs: Int32Array, from: number, to: number, counter: Counter): CountedPiece {
  const text = (a: number, b: number): string => `${lines.slice(a, b + 1).join("\n")}\n`;
  const parts: { from: number; to: number; tokens: number }[] = [];
  let at = from;
  while (at <= to) {
    let end = at + 1;
    while (end < lines.length && (segs[end] as number) < 0) end++;
    const whole = (segs[at] as number) >= 0 && end - 1 <= to;
    const last = Math.min(end - 1, to);
    parts.push({ from: at, to: last, tokens: whole ? (segs[at] as number) : counter.base(text(at, last)) });
    at = end;
  }
  const base = parts.reduce((n, p) => n + p.tokens, 0);
  const first = parts[0];
  let block: number;
  if (escapeMarkers(piece.text) !== piece.text || !first) block = counter.base(renderPiece(piece));
  else if (startsCleanly(piece.text)) block = counter.base(sourceLine(piece)) + base;
  else block = counter.base(sourceLine(piece) + text(first.from, first.to)) + base - first.tokens;
  return { piece, block, tokens: counter.toModel(base), base };
}

export type FocusTerms = {
  terms: Set<string>;
  identifiers: Set<string>;
  /** Each identifier seen in a line, with the focus terms it yields: code repeats its names, so each is split once. */
  seen: Map<string, string[]>;
  /** Finds the focus terms and identifiers made of ASCII identifier characters, case aside; none when there are none. */
  matcher: WordMatcher | undefined;
  /** Whether every term and identifier sought is ASCII (only then does `matcher` find every name that scores). */
  ascii: boolean;
  /** Lines the prompt points at, by path (a traceback frame's line): the window around them comes first. */
  lines: Map<string, number[]>;
  /** Plain-word symbols the prose uses as code (`xr.where`): a line defining one counts as defining an identifier. */
  members: Set<string>;
};

// A named line outweighs any count of terms; the lines this close to it come next.
const NAMED_LINE_SCORE = 50;
const NEAR_LINE_SCORE = 10;
const NAMED_LINE_REACH = 3;
// A line that defines what the prompt names (it names a prompt identifier, or a member the prose calls, and opens a
// definition) counts this much more: the window leans to the definition's body rather than to its callers.
const DEFINITION_SCORE = 10;
const DEFINES =
  /^\s*(?:pub(?:\([^)]*\))?\s+|export\s+|async\s+)*(?:def|class|fn|func|function|struct|enum|trait|interface|type|impl|public|private|protected|static)\b/;
// Lines of context an excerpt keeps before its first scoring line.
const LEAD_LINES = 3;
// A line scoring this much names a prompt identifier (3) or holds three focus terms.
const NAMES_IDENTIFIER = 3;

/**
 * Each line's worth: one per distinct focus term it holds, three per distinct prompt identifier it names.
 * One scan of the chunk's text; a term's last line is remembered instead of a set per line. The lines naming one
 * of the prose's members (which score only by their terms) are added to `memberLines` when given.
 */
export function lineScores(text: string, lineCount: number, focus: FocusTerms, memberLines?: Set<number>): number[] {
  const scores = new Array<number>(lineCount).fill(0);
  const termLine = new Map<string, number>();
  const namedLine = new Map<string, number>();
  const onName = (name: string, line: number): void => {
    if (line >= lineCount) return;
    let terms = focus.seen.get(name);
    if (!terms) {
      terms = termsOfName(name).filter((t) => focus.terms.has(t));
      focus.seen.set(name, terms);
    }
    for (const t of terms) {
      if (termLine.get(t) === line) continue;
      termLine.set(t, line);
      scores[line] = (scores[line] as number) + 1;
    }
    if (memberLines && focus.members.has(name)) memberLines.add(line);
    if (focus.identifiers.has(name) && namedLine.get(name) !== line) {
      namedLine.set(name, line);
      scores[line] = (scores[line] as number) + 3;
    }
  };
  // A term is a lower-cased piece of a name. An ASCII one is the lower case of ASCII letters only (the
  // Kelvin sign aside, which lower-cases to "k"), so only names holding one of the matcher's words, case
  // aside, can score (none when it has none). Other terms (where lower-casing may change lengths) need every
  // name scanned.
  if (!focus.ascii || text.includes(KELVIN)) forEachIdentifier(text, onName, MIN_NAME);
  else focus.matcher?.forEachRun(text, (run, line) => forEachIdentifier(run, (name) => onName(name, line), MIN_NAME));
  return scores;
}

// A one-character name yields no term (termsOf keeps two or more) and is no prompt identifier.
const MIN_NAME = 2;
const KELVIN = "\u212a";
const NON_ASCII = /[\u0080-\uffff]/;

export function asPiece(body: ChunkBody): PackedPiece {
  return {
    piece: { id: body.chunkId, kind: "chunk", path: body.path, startLine: body.startLine, endLine: body.endLine, text: body.text },
    block: body.block,
    tokens: body.tokens,
    ...(body.textless ? { textless: true } : {}),
  };
}

/** Query terms (the ones the ranking searched with, when given) and prompt identifiers that make a line worth keeping in an excerpt. */
export function focusTerms(prompt: string, lines = new Map<string, number[]>(), ranked?: { query: string[]; title: string[] }): FocusTerms {
  const terms = new Set(ranked ? [...ranked.query, ...ranked.title] : queryTerms(prompt));
  const identifiers = new Set(promptIdentifiers(prompt));
  const members = new Set(plainWordSymbols(prompt));
  const sought = [...new Set([...terms, ...identifiers, ...members].filter((t) => t.length >= 2).map((t) => t.toLowerCase()))];
  return {
    terms,
    identifiers,
    seen: new Map(),
    lines,
    members,
    matcher: WordMatcher.of(sought),
    ascii: sought.every((t) => !NON_ASCII.test(t)),
  };
}

/**
 * The window of whole lines of a chunk, within about `cap` model tokens, that holds the most prompt terms
 * (an identifier the prompt names counts extra, the line defining one more), with the rest of the body of the
 * definition it holds when that stays within DEFINITION_STRETCH caps. Provenance stays exact: the piece keeps
 * the chunk id and narrows its line range. Undefined when no line fits the cap (a minified or data line longer than it):
 * the chunk is then no excerpt's worth, and comes whole or not at all.
 */
export function excerpt(body: ChunkBody, focus: FocusTerms, cap: number, counter: Counter, segs?: Int32Array): CountedPiece | undefined {
  const lines = chunkLines(body.text);
  const capBase = baseCap(cap, counter.tokenizer);
  // The window is chosen by an estimate (code runs about 3.5 characters a token); the piece's block is then counted exactly.
  const cost = lines.map(estimatedBase);
  const named = focus.lines.get(body.path) ?? [];
  const nearness = (line: number): number =>
    named.includes(line) ? NAMED_LINE_SCORE : named.some((n) => Math.abs(n - line) <= NAMED_LINE_REACH) ? NEAR_LINE_SCORE : 0;
  const memberLines = new Set<number>();
  // A member scores only by its terms: defining one counts as naming an identifier besides.
  const defines = (n: number, i: number): number => {
    const identifier = n >= NAMES_IDENTIFIER;
    if ((!identifier && !memberLines.has(i)) || !DEFINES.test(lines[i] as string)) return 0;
    return identifier ? DEFINITION_SCORE : DEFINITION_SCORE + NAMES_IDENTIFIER;
  };
  const raw = lineScores(body.text, lines.length, focus, memberLines);
  const definition = raw.map(defines);
  const score = raw.map((n, i) => n + nearness(body.startLine + i) + (definition[i] as number));
  let bestFrom = 0;
  let bestTo = 0;
  let bestScore = -1;
  let bestUsed = 0;
  let from = 0;
  let used = 0;
  let sc = 0;
  for (let to = 0; to < lines.length; to++) {
    used += cost[to] as number;
    sc += score[to] as number;
    while (used > capBase && from <= to) {
      used -= cost[from] as number;
      sc -= score[from] as number;
      from++;
    }
    // Ties go to the fuller window, so a chunk with no prompt term at all keeps its opening cap's worth.
    if (from <= to && (sc > bestScore || (sc === bestScore && used > bestUsed))) {
      bestScore = sc;
      bestUsed = used;
      bestFrom = from;
      bestTo = to;
    }
  }
  if (bestScore < 0) return undefined;
  // Lines before the window's first scoring line (past a few of context) give way to lines after its end:
  // the lines a change touches tend to follow the ones that name what the prompt names (a body after its signature).
  if (bestScore > 0) {
    let firstHit = bestFrom;
    while ((score[firstHit] as number) === 0) firstHit++;
    const lead = Math.max(bestFrom, firstHit - LEAD_LINES);
    if (lead > bestFrom) {
      for (let i = bestFrom; i < lead; i++) bestUsed -= cost[i] as number;
      bestFrom = lead;
      while (bestTo + 1 < lines.length && bestUsed + (cost[bestTo + 1] as number) <= capBase) bestUsed += cost[++bestTo] as number;
    }
  }
  // The first definition of what the prompt names in the window comes with the rest of its body when that stays
  // within DEFINITION_STRETCH caps: the lines a fix changes lie in the body of the function the report names.
  if (bestScore > 0) {
    let at = bestFrom;
    while (at <= bestTo && definition[at] === 0) at++;
    if (at <= bestTo) {
      const end = definitionEnd(lines, at);
      let extra = 0;
      for (let k = bestTo + 1; k <= end; k++) extra += cost[k] as number;
      if (end > bestTo && bestUsed + extra <= capBase * DEFINITION_STRETCH) {
        bestTo = end;
        bestUsed += extra;
      }
    }
  }
  const text = `${lines.slice(bestFrom, bestTo + 1).join("\n")}\n`;
  const piece: RenderPiece = { id: body.chunkId, kind: "chunk", path: body.path, startLine: body.startLine + bestFrom, endLine: body.startLine + bestTo, text };
  return segs?.length === lines.length ? countLines(piece, lines, segs, bestFrom, bestTo, counter) : countPiece(piece, counter);
}

// A definition's body may take an excerpt to this many times its cap (measured: 2, 4, 6 and 8; docs/benchmarks.md).
const DEFINITION_STRETCH = 6;
const indentOf = (line: string): number => line.length - line.trimStart().length;

/** The last line of the definition opening at `at`: before the next line indented no deeper, or that line when it closes a brace. */
export function definitionEnd(lines: readonly string[], at: number): number {
  const depth = indentOf(lines[at] as string);
  let last = at;
  for (let k = at + 1; k < lines.length; k++) {
    const line = lines[k] as string;
    if (line.trim() === "") continue;
    if (indentOf(line) > depth || /^\s*[)\]]/.test(line)) {
      last = k;
      continue;
    }
    return /^\s*}/.test(line) ? k : last;
  }
  return last;
}

/** Absolute lines of a chunk, both ends included. */
export type LineRange = { startLine: number; endLine: number };

/** A whole file as consecutive chunks, each without the lines it repeats from the one before. */
export function wholeFile(chunks: ChunkBody[], withText: (c: ChunkBody) => ChunkBody, counter: Counter): PackedPiece[] {
  const out: PackedPiece[] = [];
  let lastLine = 0;
  for (const chunk of [...chunks].sort((a, b) => a.ordinal - b.ordinal)) {
    if (chunk.startLine > lastLine || chunk.startLine === chunk.endLine) out.push(asPiece(chunk));
    else if (chunk.endLine > lastLine) {
      const c = withText(chunk);
      let at = 0;
      for (let i = c.startLine; i <= lastLine; i++) at = c.text.indexOf("\n", at) + 1;
      out.push(countPiece({ id: c.chunkId, kind: "chunk", path: c.path, startLine: lastLine + 1, endLine: c.endLine, text: c.text.slice(at) }, counter));
    }
    lastLine = Math.max(lastLine, chunk.endLine);
  }
  return out;
}

/**
 * The chunk's lines before and after `inner` (absolute lines within it: an excerpt, a window around one) as
 * counted pieces, as `chunkParts` (none where `inner` reaches the chunk's edge, or where only white space is left).
 */
export function linesOutside(body: ChunkBody, inner: LineRange, counter: Counter, segs?: Int32Array): CountedPiece[] {
  return chunkParts(
    body,
    [
      { startLine: body.startLine, endLine: inner.startLine - 1 },
      { startLine: inner.endLine + 1, endLine: body.endLine },
    ],
    counter,
    segs,
  );
}

/**
 * The lines around an excerpt worth about `cap` more model tokens: its window widened by the estimate
 * `excerpt` uses, a line at a time on the side that has taken less, until the cap or the chunk's edges.
 * Absolute line numbers, within the chunk.
 */
export function widened(body: ChunkBody, cut: LineRange, cap: number, tokenizer: Tokenizer): LineRange {
  const lines = chunkLines(body.text);
  const cost = (i: number): number => estimatedBase(lines[i] as string);
  let left = baseCap(cap, tokenizer);
  let from = cut.startLine - body.startLine;
  let to = cut.endLine - body.startLine;
  let before = 0;
  let after = 0;
  while (from > 0 || to < lines.length - 1) {
    const down = from > 0 && (before <= after || to >= lines.length - 1);
    const c = cost(down ? from - 1 : to + 1);
    if (c > left) break;
    left -= c;
    if (down) {
      from--;
      before += c;
    } else {
      to++;
      after += c;
    }
  }
  return { startLine: body.startLine + from, endLine: body.startLine + to };
}

/**
 * The chunk's lines in each of `ranges` (absolute, inside the chunk) as counted pieces of it, by addition
 * over its line segments where they match its lines; empty ranges and parts of only white space are left out.
 */
export function chunkParts(body: ChunkBody, ranges: LineRange[], counter: Counter, segs?: Int32Array): CountedPiece[] {
  const chunk = chunkLines(body.text);
  const out: CountedPiece[] = [];
  for (const { startLine, endLine } of ranges) {
    if (startLine > endLine) continue;
    const from = startLine - body.startLine;
    const to = endLine - body.startLine;
    const piece: RenderPiece = { id: body.chunkId, kind: "chunk", path: body.path, startLine, endLine, text: `${chunk.slice(from, to + 1).join("\n")}\n` };
    if (!piece.text.trim()) continue;
    out.push(segs?.length === chunk.length ? countLines(piece, chunk, segs, from, to, counter) : countPiece(piece, counter));
  }
  return out;
}

/**
 * The longest whole-line prefix of `text` that counts within `maxTokens`, or undefined if not even one line fits.
 * Prefixes are counted by addition over the text's line segments (`lineSegments`: each encoded once), so
 * only the segment a prefix cuts is encoded again, not the whole prefix at every step of the search.
 */
export function linePrefixWithin(text: string, maxTokens: number, count: (s: string) => number): { text: string; lines: number; tokens: number } | undefined {
  if (maxTokens <= 0) return undefined;
  const ends: number[] = [];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) ends.push(i + 1);
  if (ends.length === 0 || ends[ends.length - 1] !== text.length) ends.push(text.length);
  const lines = chunkLines(text);
  // No prefix reaching past the segment whose sum passes maxTokens fits, so the lines after it are not counted.
  const segs = lineSegments(lines, { base: count }, maxTokens);
  const counted = segs.length;
  // Tokens of the whole segments before each segment's first line.
  const before = new Float64Array(counted + 1);
  for (let i = 0, sum = 0; i <= counted; i++) {
    before[i] = sum;
    if (i < counted && (segs[i] as number) >= 0) sum += segs[i] as number;
  }
  const prefixTokens = (n: number): number => {
    // A last line without its newline is not what its segment counted.
    if (lines.length === 0 || (n === lines.length && !text.endsWith("\n"))) return count(text.slice(0, ends[n - 1]));
    let open = n - 1;
    while ((segs[open] as number) < 0) open--;
    // The counted lines end where a segment ends.
    const whole = n === counted || (segs[n] as number) >= 0;
    return (before[open] as number) + (whole ? (segs[open] as number) : count(`${lines.slice(open, n).join("\n")}\n`));
  };
  let lo = 0;
  let hi = counted < lines.length ? counted : ends.length;
  let best: { text: string; lines: number; tokens: number } | undefined;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const tokens = prefixTokens(mid);
    if (tokens <= maxTokens) {
      best = { text: text.slice(0, ends[mid - 1]), lines: mid, tokens };
      lo = mid;
    } else hi = mid - 1;
  }
  return best;
}

export function summaryPiece(s: Summary): RenderPiece {
  return { id: s.id, kind: s.kind, path: s.path, startLine: 0, endLine: 0, text: s.text };
}

export function contextPiece(p: RenderPiece, tokens: number, score: number, reasons: Signal[]): ContextPiece {
  return {
    chunkId: p.id,
    kind: p.kind,
    tokenCount: tokens,
    textPreview: p.text.slice(0, PREVIEW_CHARS),
    sourcePath: p.path,
    startLine: p.startLine,
    endLine: p.endLine,
    score: Math.round(score * 1e6) / 1e6,
    reasons,
  };
}
