/**
 * Cuts normalised text into chunks of at most `maxTokens`, each starting and ending on a line
 * boundary, preferring the blank line before a top-level declaration, and overlapping the previous
 * chunk by up to `overlapTokens` whole lines. A single line longer than a chunk is split by tokens.
 * Every chunk's token count is exact for its own text (it is recounted after the cut).
 */
import { baseEncoding, CLAUDE_TOKEN_FACTOR, countWith, getEncoding, type Tokenizer } from "../tokenizer";

export type ChunkOptions = { tokenizer: Tokenizer; maxTokens: number; overlapTokens: number };

export type TextChunk = {
  text: string;
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
  /** UTF-8 byte offset and length within the normalised file. */
  byteOffset: number;
  byteLength: number;
  /** UTF-16 offsets within the normalised file (end exclusive). */
  charStart: number;
  charEnd: number;
  tokenCount: number;
};

// A preferred cut (blank line before a top-level line) is taken only if it keeps at least this
// share of the chunk's budget; otherwise chunks would shrink to fragments around every function.
const MIN_FILL_FOR_PREFERRED_CUT = 0.7;

export function chunkText(text: string, opts: ChunkOptions): TextChunk[] {
  if (text.length === 0) return [];
  const enc = getEncoding(baseEncoding(opts.tokenizer));
  // Plan in the base encoding's units: for Claude, ceil(base * factor) <= max  <=>  base <= max / factor.
  const scale = opts.tokenizer === "claude" ? CLAUDE_TOKEN_FACTOR : 1;
  const limit = Math.max(1, Math.floor(opts.maxTokens / scale));
  const overlap = Math.floor(opts.overlapTokens / scale);

  const lineStarts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) {
    if (i + 1 < text.length) lineStarts.push(i + 1);
  }
  const lineCount = lineStarts.length;
  const lineEnd = (i: number): number => (i + 1 < lineCount ? (lineStarts[i + 1] as number) : text.length);

  // Tokens per line: each pre-token counts toward the line it starts on.
  const lineTokens = new Float64Array(lineCount);
  let line = 0;
  enc.forEachPiece(text, (_piece, index, tokens) => {
    while (line + 1 < lineCount && (lineStarts[line + 1] as number) <= index) line++;
    lineTokens[line] = (lineTokens[line] as number) + tokens;
  });

  const byteStarts = new Float64Array(lineCount + 1);
  for (let i = 0; i < lineCount; i++) byteStarts[i + 1] = (byteStarts[i] as number) + utf8Length(text, lineStarts[i] as number, lineEnd(i));

  const isBlank = (i: number): boolean => text.slice(lineStarts[i], lineEnd(i)).trim() === "";
  const isTopLevel = (i: number): boolean => {
    const c = text.charCodeAt(lineStarts[i] as number);
    return c !== 32 && c !== 9 && c !== 10 && c !== 125 && c !== 41 && c !== 93; // not indented, not a closer
  };

  const make = (charStart: number, charEnd: number, startLine: number, endLine: number): TextChunk => {
    const chunkText = text.slice(charStart, charEnd);
    const byteOffset = (byteStarts[startLine] as number) + utf8Length(text, lineStarts[startLine] as number, charStart);
    return {
      text: chunkText,
      startLine: startLine + 1,
      endLine: endLine + 1,
      byteOffset,
      byteLength: utf8Length(text, charStart, charEnd),
      charStart,
      charEnd,
      tokenCount: countWith(opts.tokenizer, chunkText),
    };
  };

  const out: TextChunk[] = [];
  let start = 0; // first line of the next chunk
  let firstNew = 0; // first line not yet covered by an earlier chunk
  while (firstNew < lineCount) {
    // Overlap lines are a courtesy: drop them if they leave no room for the next new line.
    if (start < firstNew && sumTokens(lineTokens, start, firstNew + 1) > limit) start = firstNew;
    if (start === firstNew && (lineTokens[firstNew] as number) > limit) {
      for (const piece of splitLongLine(text, lineStarts[firstNew] as number, lineEnd(firstNew), limit, opts.tokenizer, opts.maxTokens)) {
        out.push(make(piece.start, piece.end, firstNew, firstNew));
      }
      firstNew++;
      start = firstNew;
      continue;
    }
    let end = firstNew; // exclusive
    let used = sumTokens(lineTokens, start, firstNew);
    while (end < lineCount && used + (lineTokens[end] as number) <= limit) used += lineTokens[end++] as number;
    end = end === lineCount ? end : preferredCut(start, firstNew, end, lineTokens, limit, isBlank, isTopLevel);
    let chunk = make(lineStarts[start] as number, lineEnd(end - 1), start, end - 1);
    // Per-line counts are estimates at line seams; the recount is exact, so shrink if it is over.
    while (chunk.tokenCount > opts.maxTokens && end - 1 > firstNew) {
      end--;
      chunk = make(lineStarts[start] as number, lineEnd(end - 1), start, end - 1);
    }
    if (chunk.tokenCount > opts.maxTokens) {
      // Even one new line with its overlap is over: retry without the overlap.
      if (start < firstNew) {
        start = firstNew;
        continue;
      }
      for (const piece of splitLongLine(text, lineStarts[firstNew] as number, lineEnd(firstNew), limit, opts.tokenizer, opts.maxTokens)) {
        out.push(make(piece.start, piece.end, firstNew, firstNew));
      }
      firstNew++;
      start = firstNew;
      continue;
    }
    out.push(chunk);
    firstNew = end;
    if (end >= lineCount) break;
    let back = end;
    let carried = 0;
    while (back - 1 > start && carried + (lineTokens[back - 1] as number) <= overlap) carried += lineTokens[--back] as number;
    start = back;
  }
  return out;
}

function sumTokens(lineTokens: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += lineTokens[i] as number;
  return s;
}

/** The best end (exclusive) at or before `end`: a blank line before top-level code, else a blank line. */
function preferredCut(
  start: number,
  firstNew: number,
  end: number,
  lineTokens: Float64Array,
  limit: number,
  isBlank: (i: number) => boolean,
  isTopLevel: (i: number) => boolean,
): number {
  const minTokens = limit * MIN_FILL_FOR_PREFERRED_CUT;
  let used = sumTokens(lineTokens, start, end);
  let blankCut = -1;
  for (let b = end; b > firstNew + 1 && used >= minTokens; b--) {
    // Cut between line b-1 and line b.
    if (isBlank(b - 1) && !isBlank(b)) {
      if (isTopLevel(b)) return b;
      if (blankCut < 0) blankCut = b;
    }
    used -= lineTokens[b - 1] as number;
  }
  return blankCut > 0 ? blankCut : end;
}

/** Splits text[from, to) into pieces of at most `maxTokens`, at pre-token boundaries where possible. */
function splitLongLine(text: string, from: number, to: number, limit: number, tokenizer: Tokenizer, maxTokens: number): { start: number; end: number }[] {
  const enc = getEncoding(baseEncoding(tokenizer));
  const out: { start: number; end: number }[] = [];
  const segment = text.slice(from, to);
  let pieceStart = 0;
  let used = 0;
  const flush = (end: number): void => {
    if (end > pieceStart) out.push({ start: from + pieceStart, end: from + end });
    pieceStart = end;
    used = 0;
  };
  enc.forEachPiece(segment, (piece, index, tokens) => {
    if (used + tokens > limit) flush(index);
    if (tokens > limit) {
      // One pre-token bigger than a chunk (e.g. 1 MB of one letter): cut it at its own token seams.
      let at = index;
      let taken = 0;
      for (const end of enc.tokenEnds(piece)) {
        if (++taken >= limit) {
          out.push({ start: from + at, end: from + index + end });
          at = index + end;
          taken = 0;
        }
      }
      if (at < index + piece.length) out.push({ start: from + at, end: from + index + piece.length });
      pieceStart = index + piece.length;
      used = 0;
      return;
    }
    used += tokens;
  });
  flush(segment.length);
  // Re-check exact counts; a seam can add a token, so halve any piece still over.
  const exact: { start: number; end: number }[] = [];
  for (const p of out) {
    const stack = [p];
    while (stack.length) {
      const q = stack.pop() as { start: number; end: number };
      if (countWith(tokenizer, text.slice(q.start, q.end)) <= maxTokens || q.end - q.start < 2) exact.push(q);
      else {
        const mid = safeCut(text, q.start + Math.floor((q.end - q.start) / 2));
        stack.push({ start: mid, end: q.end }, { start: q.start, end: mid });
      }
    }
  }
  return exact;
}

/** Moves a cut off the middle of a surrogate pair. */
function safeCut(text: string, i: number): number {
  const c = text.charCodeAt(i - 1);
  return c >= 0xd800 && c <= 0xdbff && i < text.length ? i + 1 : i;
}

/** UTF-8 byte length of text[from, to). */
export function utf8Length(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
