/**
 * Pack: the ranking becomes one sequence of pieces whose order does not depend on the budget, and the
 * context takes its longest prefix that fits (the piece that does not fit is cut to a line prefix of
 * what is left, then packing stops). So the context at a budget is contained in the context at every
 * larger budget, and a small budget costs only the pieces it takes.
 *
 * The sequence: each ranked file's first turn (the whole file when it is small, else its best chunk
 * cut to a window around the prompt's terms) at the file's score; a file's later pieces (the rest of
 * that chunk, its other ranked chunks) at a share of their chunks' scores — so the best files deepen
 * after the first turns of files nearly as good, not before every other file is seen; the other chunks
 * of the very best files come no later than a share of their file's score. Past the best files, the rest
 * of the best chunk is bounded to the lines around the excerpt, and its far lines come later still: one
 * file's far lines give way to more files. Files beside the best files come at a share of their score
 * when that is more than their own (`neighbours.ts`).
 */
import type { Tokenizer } from "../tokenizer";
import type { TokenBudget } from "./budget";
import { type Neighbour, neighboursOf } from "./neighbours";
import {
  asPiece,
  type CountedPiece,
  type Counter,
  chunkLines,
  chunkParts,
  countPiece,
  excerpt,
  type FocusTerms,
  focusTerms,
  isCounted,
  linePrefixWithin,
  lineSegments,
  linesOutside,
  wholeFile,
  widened,
} from "./pieces";
import { type RenderPiece, sourceLine } from "./prompt";
import type { Ranking } from "./rank";
import type { ChunkBody, PackedPiece, RetrievalStore, Signal } from "./types";

// A file up to this many tokens is taken whole at its first turn;
export const WHOLE_FILE_TOKENS = 2000;
// among the `files` ranked first, only up to `tokens`: a larger one's first turn is its best lines, so a small
// budget holds more of the best files' best lines. Past them a file of up to WHOLE_FILE_TOKENS comes in one
// piece, not in two or three (each counted and placed), which keeps a large budget's packing fast.
export const TOP_WHOLE_FILES = [
  { files: 15, tokens: 800 },
  { files: 60, tokens: 1200 },
] as const;
const TIERED_FILES = Math.max(...TOP_WHOLE_FILES.map((t) => t.files));
// Otherwise its first turn is its best chunk cut to this many tokens around the prompt's terms.
export const FIRST_PIECE_TOKENS = 600;
// A later piece (another ranked chunk) is cut to at most this many.
export const PIECE_TOKENS = 8000;
// A file's later pieces rank at this share of their chunk's score.
export const DEEPEN = 0.5;
// The files ranked first deepen in whole pieces. Past them the rest of the best chunk is bounded to this many
// tokens around the excerpt. What a later piece leaves out (that rest's far lines, a chunk's lines past
// PIECE_TOKENS) comes at LEFT_OUT of its priority.
export const DEEP_FILES = 30;
export const BOUNDED_PIECE_TOKENS = 3000;
export const LEFT_OUT = 0.5;
// The other chunks of the files ranked first come no later than this share of their file's score: a weak
// chunk of the best file is worth more than the first piece of a file far below it.
export const TOP_CHUNK_FILES = 3;
export const TOP_CHUNK_SHARE = 0.4;
// Turns whose chunks are read in one query: the first batch, and the most a batch grows to.
const READ_AHEAD_FIRST = 16;
const READ_AHEAD_MAX = 256;
// How far past the turns the room left is expected to hold a batch reads.
const READ_AHEAD_MARGIN = 1.25;
const READ_AHEAD_SLACK = 8;
// Slack for where a prefix meets its source line: counted apart, the two may tokenize differently when joined.
const PREFIX_BLOCK_SLACK = 4;

export type Snippet = { piece: RenderPiece; score: number; reasons: Signal[]; tokens: number; textless?: boolean };

/** Whether a cut of a chunk is an excerpt narrower than the chunk (whose other lines a later turn adds). */
const isNarrowed = (p: PackedPiece, body: ChunkBody): p is CountedPiece =>
  isCounted(p) && (p.piece.startLine !== body.startLine || p.piece.endLine !== body.endLine);

/** Pieces are keyed by chunk and first line: an excerpt and, later, the rest of its chunk are distinct pieces. */
const pieceKey = (p: RenderPiece): string => `${p.id}:${p.startLine}`;

/** The snippets section as it fills: each piece is charged to the budget, the section's header with the first. */
export class SnippetList {
  readonly items: Snippet[] = [];
  /** Keys of included pieces, and the chunk ids they come from. */
  readonly included = new Set<string>();

  constructor(
    private readonly budget: TokenBudget,
    private readonly headerTokens: number,
  ) {}

  /** The header's tokens if the next piece is the first. */
  header(): number {
    return this.items.length === 0 ? this.headerTokens : 0;
  }

  has(piece: RenderPiece): boolean {
    return this.included.has(pieceKey(piece));
  }

  /** Adds a piece if it fits (true also when it is in already). */
  add(p: PackedPiece, score: number, reasons: Signal[]): boolean {
    if (this.has(p.piece)) return true;
    const cost = p.block + this.header();
    if (!this.budget.fits(cost)) return false;
    this.budget.take(cost);
    this.items.push({ piece: p.piece, score, reasons, tokens: p.tokens, ...(p.textless ? { textless: true } : {}) });
    this.included.add(pieceKey(p.piece));
    this.included.add(p.piece.id);
    return true;
  }

  /**
   * Adds a piece, or when it does not fit the longest line prefix of it that does; false when the
   * budget is spent (the piece did not go in whole), which ends a prefix-packed sequence.
   */
  addOrCut(p: PackedPiece, score: number, reasons: Signal[], loader: ChunkLoader): boolean {
    if (this.add(p, score, reasons)) return true;
    const header = this.budget.base(sourceLine(p.piece)) + PREFIX_BLOCK_SLACK + this.header();
    const full = p.textless ? loader.textOf(p.piece) : p.piece.text;
    const prefix = linePrefixWithin(full, this.budget.roomAfter(header), this.budget.base);
    if (prefix) {
      // A prefix is a new block the caller does not hold.
      this.add(countPiece({ ...p.piece, endLine: p.piece.startLine + prefix.lines - 1, text: prefix.text }, this.budget, prefix.tokens), score, reasons);
    }
    return false;
  }
}

/** Reads chunks for one assembly; whole chunks whose blocks the caller holds come without their text. */
export class ChunkLoader {
  private readonly segs = new Map<string, Int32Array>();

  constructor(
    private readonly store: RetrievalStore,
    private readonly req: { tokenizer: Tokenizer; cachedKeys?: string[] | undefined },
  ) {}

  load(ids: string[]): ChunkBody[] {
    return this.store.loadChunks(ids, this.req.tokenizer, this.req.cachedKeys);
  }

  /**
   * The chunk's line segments with their counts (`lineSegments`): kept by the store once counted, so a
   * chunk's excerpts are counted by addition from its second use on.
   */
  segments(b: ChunkBody, counter: Counter): Int32Array {
    let segs = this.segs.get(b.chunkId) ?? b.segments;
    if (!segs) {
      segs = lineSegments(chunkLines(b.text), counter);
      this.store.saveSegments?.(b.chunkId, this.req.tokenizer, segs);
    }
    this.segs.set(b.chunkId, segs);
    return segs;
  }

  /** The chunk with its text (a part of a held chunk needs it). */
  withText(b: ChunkBody): ChunkBody {
    return b.textless ? (this.store.loadChunks([b.chunkId], this.req.tokenizer)[0] ?? b) : b;
  }

  textOf(p: RenderPiece): string {
    return this.store.loadChunks([p.id], this.req.tokenizer)[0]?.text ?? "";
  }
}

export type Packed = {
  /** Files taken whole. */
  wholeFiles: Set<string>;
  /** Whether every piece of the sequence went in (only then does the rest of the budget take fill). */
  complete: boolean;
};

/**
 * One turn of the sequence: a file's first piece, the rest of its first chunk (`cap` tokens of it around the
 * excerpt), another of its chunks (cut to `cap`), or what one of the last two left out.
 */
type Turn = { priority: number; order: number; path: string; kind: "first" | "rest" | "chunk" | "left out"; chunkId: string; cap: number };

/**
 * The budget-independent order of turns: first turns at their file's score, later ones at DEEPEN of their
 * chunk's (the other chunks of the TOP_CHUNK_FILES best files at TOP_CHUNK_SHARE of their file's score at least).
 */
export function turnsOf(ranking: Ranking, neighbours: Neighbour[] = []): Turn[] {
  const turns: Turn[] = [];
  const score = (id: string): number => ranking.ranked.get(id)?.score ?? 0;
  const later = (path: string, kind: "rest" | "chunk", chunkId: string, cap: number, floor = 0): void => {
    const priority = Math.max(score(chunkId) * DEEPEN, floor);
    turns.push({ priority, order: turns.length, path, kind, chunkId, cap });
    // A piece without a bound leaves nothing out.
    if (Number.isFinite(cap)) turns.push({ priority: priority * LEFT_OUT, order: turns.length, path, kind: "left out", chunkId, cap: 0 });
  };
  // A ranked neighbour's first turn comes at the higher of its own score and its neighbour's share.
  const raised = new Map(neighbours.map((n) => [n.path, n.priority]));
  for (const [rank, path] of ranking.fileOrder.entries()) {
    const [best, ...others] = ranking.chunksByFile.get(path) ?? [];
    if (!best) continue;
    const bounded = rank >= DEEP_FILES;
    const priority = Math.max(ranking.fileScores.get(path) ?? score(best), raised.get(path) ?? 0);
    raised.delete(path);
    turns.push({ priority, order: turns.length, path, kind: "first", chunkId: best, cap: FIRST_PIECE_TOKENS });
    later(path, "rest", best, bounded ? BOUNDED_PIECE_TOKENS : Number.POSITIVE_INFINITY);
    const floor = rank < TOP_CHUNK_FILES ? (ranking.fileScores.get(path) ?? score(best)) * TOP_CHUNK_SHARE : 0;
    for (const id of others) later(path, "chunk", id, PIECE_TOKENS, floor);
  }
  for (const { path, chunkId, priority } of neighbours)
    if (raised.has(path)) turns.push({ priority, order: turns.length, path, kind: "first", chunkId, cap: FIRST_PIECE_TOKENS });
  return turns.sort((a, b) => b.priority - a.priority || a.order - b.order);
}

/** Packs the ranking's sequence into `snippets` until a piece does not fit. */
export function packRanked(
  store: RetrievalStore,
  req: { prompt: string; tokenizer: Tokenizer },
  ranking: Ranking,
  budget: TokenBudget,
  snippets: SnippetList,
  loader: ChunkLoader,
): Packed {
  const { ranked, hot } = ranking;
  const focus: FocusTerms = focusTerms(req.prompt, ranking.namedLines, ranking.terms);
  const wholeFiles = new Set<string>();
  /**
   * The excerpt each file's first turn took from its best chunk, whose other lines its "rest" turn adds
   * (all of them when the first turn took none: no line fit).
   */
  const firstExcerpts = new Map<string, { body: ChunkBody; cut: CountedPiece | undefined }>();
  /** By chunk: what a "rest" or "chunk" turn left out of it, for its "left out" turn. */
  const leftOut = new Map<string, () => PackedPiece[]>();
  const neighbours = neighboursOf(store, ranking, req.tokenizer, WHOLE_FILE_TOKENS);
  const beside = new Map(neighbours.map((n) => [n.path, n.reason]));
  const reasons = new Map<string, Signal[]>();
  const reasonsOf = (path: string): Signal[] => {
    let r = reasons.get(path);
    if (!r) {
      r = [...new Set((ranking.chunksByFile.get(path) ?? []).flatMap((id) => [...(ranked.get(id)?.reasons ?? [])]))];
      const neighbour = beside.get(path);
      if (neighbour) r.push(neighbour);
      reasons.set(path, r);
    }
    return r;
  };
  /** The chunk within `cap`: whole, or an excerpt; undefined when no line of it fits (`excerpt`). */
  const cut = (body: ChunkBody, cap: number): PackedPiece | undefined => {
    if (body.tokens <= cap) return asPiece(body);
    const read = loader.withText(body);
    return excerpt(read, focus, cap, budget, loader.segments(read, budget));
  };
  const fileTokens = store.fileTokens([...ranking.fileOrder, ...neighbours.map((n) => n.path)], req.tokenizer);

  // A file taken whole at its first turn: a small one (smaller among the best files), or one the session holds.
  const tierLimits = new Map(ranking.fileOrder.slice(0, TIERED_FILES).map((path, rank) => [path, TOP_WHOLE_FILES.find((t) => rank < t.files)?.tokens]));
  const takenWhole = (t: Turn): boolean =>
    t.kind === "first" && ((fileTokens.get(t.path) ?? Number.POSITIVE_INFINITY) <= (tierLimits.get(t.path) ?? WHOLE_FILE_TOKENS) || hot.has(t.path));

  // Chunks are read ahead in the order the turns will want them, in batches that grow (a small budget
  // reads few): one query for the chunks of the files taken whole and one for every chunk a batch wants,
  // not two per turn.
  const turns = turnsOf(ranking, neighbours);
  const bodies = new Map<string, ChunkBody>();
  const wholeChunks = new Map<string, string[]>();
  let readUpTo = 0;
  let batch = READ_AHEAD_FIRST;
  const usedBefore = budget.used;
  const readAhead = (at: number): void => {
    // Once some turns are in, a batch holds about as many turns as the room left would take at the rate
    // they took it (with a margin): a doubled batch read past where packing stops is read for nothing.
    const rate = at > 0 ? (budget.used - usedBefore) / at : 0;
    const size = rate > 0 ? Math.min(batch, Math.ceil((budget.roomAfter(0) / rate) * READ_AHEAD_MARGIN) + READ_AHEAD_SLACK) : batch;
    const window = turns.slice(at, at + size);
    const whole = store.chunksOfPaths([...new Set(window.filter((t) => takenWhole(t) && !wholeChunks.has(t.path)).map((t) => t.path))]);
    for (const c of whole) {
      const ids = wholeChunks.get(c.path);
      if (ids) ids.push(c.chunkId);
      else wholeChunks.set(c.path, [c.chunkId]);
    }
    const wanted = [
      ...window.filter((t) => (t.kind === "first" || t.kind === "chunk") && !takenWhole(t)).map((t) => t.chunkId),
      ...whole.map((c) => c.chunkId),
    ];
    for (const b of loader.load([...new Set(wanted)].filter((id) => !bodies.has(id)))) bodies.set(b.chunkId, b);
    readUpTo = at + size;
    batch = Math.min(READ_AHEAD_MAX, batch * 2);
  };
  const bodyOf = (at: number, id: string): ChunkBody | undefined => {
    if (!bodies.has(id) && readUpTo <= at) readAhead(at);
    return bodies.get(id) ?? loader.load([id])[0];
  };

  for (const [at, turn] of turns.entries()) {
    if (wholeFiles.has(turn.path) && turn.kind !== "first") continue;
    const score = ranked.get(turn.chunkId)?.score ?? 0;
    let pieces: PackedPiece[];
    if (turn.kind === "first") {
      if (takenWhole(turn)) {
        if (readUpTo <= at) readAhead(at);
        const chunks = (wholeChunks.get(turn.path) ?? []).flatMap((id) => bodyOf(at, id) ?? []);
        pieces = wholeFile(chunks, (b) => loader.withText(b), budget);
        wholeFiles.add(turn.path);
      } else {
        const read = bodyOf(at, turn.chunkId);
        if (!read) continue;
        // An excerpt needs the text (a held chunk comes without it): read once, for the cut and the rest.
        const body = read.tokens > turn.cap ? loader.withText(read) : read;
        const first = cut(body, turn.cap);
        if (!first || isNarrowed(first, body)) firstExcerpts.set(turn.path, { body, cut: first });
        pieces = first ? [first] : [];
      }
    } else if (turn.kind === "rest") {
      const first = firstExcerpts.get(turn.path);
      if (!first) continue;
      const { body, cut: excerpted } = first;
      if (excerpted) {
        const segs = loader.segments(body, budget);
        const near = widened(body, excerpted.piece, turn.cap, req.tokenizer);
        pieces = chunkParts(
          body,
          [
            { startLine: near.startLine, endLine: excerpted.piece.startLine - 1 },
            { startLine: excerpted.piece.endLine + 1, endLine: near.endLine },
          ],
          budget,
          segs,
        );
        leftOut.set(turn.chunkId, () => linesOutside(body, near, budget, segs));
      } else if (body.tokens <= turn.cap) pieces = [asPiece(body)];
      else {
        // Nothing of the chunk came first and it is past this turn's cap: it comes whole with what is left out.
        leftOut.set(turn.chunkId, () => [asPiece(body)]);
        continue;
      }
    } else if (turn.kind === "chunk") {
      if (snippets.included.has(turn.chunkId)) continue;
      const read = bodyOf(at, turn.chunkId);
      if (!read) continue;
      const body = read.tokens > turn.cap ? loader.withText(read) : read;
      const piece = cut(body, turn.cap);
      if (!piece) leftOut.set(turn.chunkId, () => [asPiece(body)]);
      else if (isNarrowed(piece, body)) leftOut.set(turn.chunkId, () => linesOutside(body, piece.piece, budget, loader.segments(body, budget)));
      pieces = piece ? [piece] : [];
    } else {
      const rest = leftOut.get(turn.chunkId);
      if (!rest) continue;
      pieces = rest();
    }
    for (const p of pieces) if (!snippets.addOrCut(p, score, reasonsOf(turn.path), loader)) return { wholeFiles, complete: false };
  }
  return { wholeFiles, complete: true };
}
