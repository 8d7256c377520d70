/** Pure functions that turn chunks and summaries into pieces: whole, excerpted, de-overlapped, prefixed. */
import { promptIdentifiers, queryTerms, termsOf } from "../retrieval/terms";
import { CLAUDE_TOKEN_FACTOR, type Tokenizer } from "../tokenizer";
import { type RenderPiece, renderPiece } from "./prompt";
import type { ChunkBody, ContextPiece, PackedPiece, Signal, Summary } from "./types";

const PREVIEW_CHARS = 200;
const EST_CHARS_PER_TOKEN = 3.2;

/** How pieces are counted: base-encoding tokens of a block, model tokens of a text. */
export type Counter = { readonly tokenizer: Tokenizer; base(s: string): number; modelCount(s: string): number };

export type FocusTerms = {
  terms: Set<string>;
  identifiers: Set<string>;
  /** Each identifier seen in a line, with the focus terms it yields: code repeats its names, so each is split once. */
  seen: Map<string, string[]>;
  /** Lines the prompt points at, by path (a traceback frame's line): the window around them comes first. */
  lines: Map<string, number[]>;
};

// A named line outweighs any count of terms; the lines this close to it come next.
const NAMED_LINE_SCORE = 50;
const NEAR_LINE_SCORE = 10;
const NAMED_LINE_REACH = 3;

const IDENTIFIER = /[\p{L}_$][\p{L}\p{N}_$]*|\p{N}+/gu;

/** A line's worth: one per distinct focus term it holds, three per distinct prompt identifier it names. */
function lineScore(line: string, focus: FocusTerms): number {
  const found = new Set<string>();
  const named = new Set<string>();
  for (const m of line.matchAll(IDENTIFIER)) {
    let terms = focus.seen.get(m[0]);
    if (!terms) {
      terms = termsOf(m[0]).filter((t) => focus.terms.has(t));
      focus.seen.set(m[0], terms);
    }
    for (const t of terms) found.add(t);
    if (focus.identifiers.has(m[0])) named.add(m[0]);
  }
  return found.size + 3 * named.size;
}

export function asPiece(body: ChunkBody): PackedPiece {
  return {
    piece: { id: body.chunkId, kind: "chunk", path: body.path, startLine: body.startLine, endLine: body.endLine, text: body.text },
    block: body.block,
    tokens: body.tokens,
    ...(body.textless ? { textless: true } : {}),
  };
}

/** Query terms and prompt identifiers that make a line worth keeping in an excerpt. */
export function focusTerms(prompt: string, lines = new Map<string, number[]>()): FocusTerms {
  return { terms: new Set(queryTerms(prompt)), identifiers: new Set(promptIdentifiers(prompt)), seen: new Map(), lines };
}

/**
 * The window of whole lines of a chunk, within about `cap` model tokens, that holds the most prompt terms
 * (an identifier the prompt names counts extra). Provenance stays exact: the piece keeps the chunk id
 * and narrows its line range.
 */
export function excerpt(body: ChunkBody, focus: FocusTerms, cap: number, counter: Counter): PackedPiece {
  const lines = body.text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const capBase = counter.tokenizer === "claude" ? Math.floor(cap / CLAUDE_TOKEN_FACTOR) : cap;
  // The window is chosen by an estimate (code runs about 3.5 characters a token); the piece's block is then counted exactly.
  const cost = lines.map((l) => Math.ceil((l.length + 1) / EST_CHARS_PER_TOKEN));
  const named = focus.lines.get(body.path) ?? [];
  const nearness = (line: number): number =>
    named.includes(line) ? NAMED_LINE_SCORE : named.some((n) => Math.abs(n - line) <= NAMED_LINE_REACH) ? NEAR_LINE_SCORE : 0;
  const score = lines.map((l, i) => lineScore(l, focus) + nearness(body.startLine + i));
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
  if (bestScore < 0) return asPiece(body);
  const text = `${lines.slice(bestFrom, bestTo + 1).join("\n")}\n`;
  const piece: RenderPiece = { id: body.chunkId, kind: "chunk", path: body.path, startLine: body.startLine + bestFrom, endLine: body.startLine + bestTo, text };
  return { piece, block: counter.base(renderPiece(piece)), tokens: counter.modelCount(text) };
}

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
      const piece: RenderPiece = { id: c.chunkId, kind: "chunk", path: c.path, startLine: lastLine + 1, endLine: c.endLine, text: c.text.slice(at) };
      out.push({ piece, block: counter.base(renderPiece(piece)), tokens: counter.modelCount(piece.text) });
    }
    lastLine = Math.max(lastLine, chunk.endLine);
  }
  return out;
}

/** The lines of a chunk before and after an excerpt of it, as pieces (none where the excerpt reaches the chunk's edge). */
export function excerptRest(body: ChunkBody, piece: RenderPiece): RenderPiece[] {
  const lines = body.text.split("\n");
  const part = (from: number, to: number): RenderPiece => ({
    ...piece,
    startLine: from,
    endLine: to,
    text: `${lines.slice(from - body.startLine, to - body.startLine + 1).join("\n")}\n`,
  });
  const out: RenderPiece[] = [];
  if (piece.startLine > body.startLine) out.push(part(body.startLine, piece.startLine - 1));
  if (piece.endLine < body.endLine) out.push(part(piece.endLine + 1, body.endLine));
  return out;
}

/** The longest whole-line prefix of `text` that counts within `maxTokens`, or undefined if not even one line fits. */
export function linePrefixWithin(text: string, maxTokens: number, count: (s: string) => number): { text: string; lines: number; tokens: number } | undefined {
  if (maxTokens <= 0) return undefined;
  const ends: number[] = [];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) ends.push(i + 1);
  if (ends.length === 0 || ends[ends.length - 1] !== text.length) ends.push(text.length);
  let lo = 0;
  let hi = ends.length;
  let best: { text: string; lines: number; tokens: number } | undefined;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const candidate = text.slice(0, ends[mid - 1]);
    const tokens = count(candidate);
    if (tokens <= maxTokens) {
      best = { text: candidate, lines: mid, tokens };
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
