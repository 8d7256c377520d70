/**
 * Pack, breadth first: every ranked file gets one piece before any gets a second; a small file is
 * taken whole (overlaps trimmed); a piece is at most a share of the budget, a larger chunk being cut
 * to its window of lines with the most prompt terms.
 */
import type { Tokenizer } from "../tokenizer";
import type { TokenBudget } from "./budget";
import { asPiece, excerpt, focusTerms, wholeFile } from "./pieces";
import type { RenderPiece } from "./prompt";
import type { Ranking } from "./rank";
import type { ChunkBody, PackedPiece, RetrievalStore, Signal } from "./types";

// A file up to this many tokens (and at most 1.5 pieces) is taken whole rather than in fragments.
const WHOLE_FILE_TOKENS = 3000;
// A single piece takes at most this share of the budget, within these bounds: at 16k a relevant 8k
// chunk would otherwise crowd out every other file, at 500k whole chunks are cheap.
const PIECE_SHARE = 0.1;
const MIN_PIECE_CAP = 1200;
const MAX_PIECE_CAP = 8000;

export function pieceCapFor(budget: number): number {
  return Math.max(MIN_PIECE_CAP, Math.min(MAX_PIECE_CAP, Math.floor(budget * PIECE_SHARE)));
}

/** Whether a file of `total` tokens is taken whole. */
export function isWholeFile(total: number, pieceCap: number): boolean {
  return total <= Math.min(WHOLE_FILE_TOKENS, pieceCap * 1.5);
}

export type Snippet = { piece: RenderPiece; score: number; reasons: Signal[]; tokens: number; textless?: boolean };
export type Leftover = { piece: PackedPiece; score: number; reasons: Signal[] };

/** Pieces are keyed by chunk and first line: an excerpt and, later, the rest of its chunk are distinct pieces. */
export const pieceKey = (p: RenderPiece): string => `${p.id}:${p.startLine}`;

/** The snippets section as it fills: each piece is charged to the budget, the section's header with the first. */
export class SnippetList {
  readonly items: Snippet[] = [];
  /** Keys of included pieces, and the chunk ids they come from. */
  readonly included = new Set<string>();
  /** Pieces that did not fit, best first: the last gap is filled with a prefix of one of them. */
  readonly leftovers: Leftover[] = [];

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

  /** Adds a piece if it fits (true also when it is in already); one that does not is kept as a leftover. */
  add(p: PackedPiece, score: number, reasons: Signal[]): boolean {
    if (this.has(p.piece)) return true;
    const cost = p.block + this.header();
    if (!this.budget.fits(cost)) {
      this.leftovers.push({ piece: p, score, reasons });
      return false;
    }
    this.budget.take(cost);
    this.items.push({ piece: p.piece, score, reasons, tokens: p.tokens, ...(p.textless ? { textless: true } : {}) });
    this.included.add(pieceKey(p.piece));
    this.included.add(p.piece.id);
    return true;
  }
}

/** Reads chunks for one assembly; whole chunks whose blocks the caller holds come without their text. */
export class ChunkLoader {
  constructor(
    private readonly store: RetrievalStore,
    private readonly req: { tokenizer: Tokenizer; cachedKeys?: string[] | undefined },
  ) {}

  load(ids: string[]): ChunkBody[] {
    return this.store.loadChunks(ids, this.req.tokenizer, this.req.cachedKeys);
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
  /** Chunks cut to an excerpt in the second pass, with the excerpt: their other lines may fill later. */
  excerpts: { body: ChunkBody; piece: RenderPiece }[];
  wholeFiles: Set<string>;
};

/** Packs the ranking into `snippets`: each file's best piece (or the whole file), then the other chunks in rank order. */
export function packRanked(
  store: RetrievalStore,
  req: { prompt: string; budget: number; tokenizer: Tokenizer },
  ranking: Ranking,
  budget: TokenBudget,
  snippets: SnippetList,
  loader: ChunkLoader,
): Packed {
  const { ranked, hot, fileOrder, chunksByFile } = ranking;
  const fileTokens = store.fileTokens(fileOrder, req.tokenizer);
  const excerpts: Packed["excerpts"] = [];
  const wholeFiles = new Set<string>();
  const pieceCap = pieceCapFor(req.budget);
  const focus = focusTerms(req.prompt);
  const withText = (b: ChunkBody): ChunkBody => loader.withText(b);
  const excerpted = (textless: ChunkBody): PackedPiece => {
    const body = withText(textless);
    const p = excerpt(body, focus, pieceCap, budget);
    if (p.piece.startLine !== body.startLine || p.piece.endLine !== body.endLine) excerpts.push({ body, piece: p.piece });
    return p;
  };
  const rest: string[] = [];
  for (const path of fileOrder) {
    if (!budget.fits(1)) break;
    const ids = chunksByFile.get(path) ?? [];
    const reasons = [...new Set(ids.flatMap((id) => [...(ranked.get(id)?.reasons ?? [])]))];
    const total = fileTokens.get(path) ?? Number.POSITIVE_INFINITY;
    if (isWholeFile(total, pieceCap) || hot.has(path)) {
      const pieces = wholeFile(loader.load(store.chunksOfPaths([path]).map((c) => c.chunkId)), withText, budget);
      const cost = pieces.reduce((n, p) => n + p.block, 0) + snippets.header();
      if (budget.fits(cost)) {
        for (const p of pieces) snippets.add(p, ranked.get(p.piece.id)?.score ?? 0, reasons);
        wholeFiles.add(path);
        continue;
      }
    }
    const [first, ...others] = loader.load(ids.slice(0, 1));
    if (first) {
      const e = ranked.get(first.chunkId);
      // A first piece cut to an excerpt is not offered its other lines later (only second-pass excerpts are).
      snippets.add(first.tokens > pieceCap ? excerpt(withText(first), focus, pieceCap, budget) : asPiece(first), e?.score ?? 0, [...(e?.reasons ?? [])]);
    }
    rest.push(...others.map((o) => o.chunkId), ...ids.slice(1));
  }
  // Then the other relevant chunks, in rank order.
  rest.sort((a, b) => (ranked.get(b)?.score ?? 0) - (ranked.get(a)?.score ?? 0));
  for (const body of loader.load(rest)) {
    if (!budget.fits(1)) break;
    const e = ranked.get(body.chunkId);
    snippets.add(body.tokens > pieceCap ? excerpted(body) : asPiece(body), e?.score ?? 0, [...(e?.reasons ?? [])]);
  }
  return { excerpts, wholeFiles };
}
