/**
 * The context assembler: fuse every retrieval signal into one ranking, pack the best pieces under the
 * budget (whole small files before fragments, only the relevant chunks of large files), fill what is
 * left with file, then directory summaries, and render the prompt in the spec's order. The budget is
 * a hard guarantee: the rendered text is counted whole with the model's tokenizer.
 */
import { AppError } from "../errors";
import { promptIdentifiers, queryTerms, termsOf } from "../retrieval/terms";
import { baseEncoding, CLAUDE_TOKEN_FACTOR, getEncoding, scaleToClaude, type Tokenizer } from "../tokenizer";
import {
  blockKey,
  type ConversationMessage,
  conversationBlock,
  instructionBlock,
  type PieceKind,
  type PromptBlock,
  type RenderPiece,
  renderBlocks,
  renderPiece,
  responseFormatBlock,
  SECTION,
  sourceLine,
  systemBlock,
} from "./prompt";

/**
 * Headroom the spec reserves out of every budget (~2,000 tokens at 500k). It scales down with
 * smaller budgets (0.4%), so a 16k budget is not a quarter headroom.
 */
export const SAFETY_MARGIN = 2000;
export function safetyMargin(budget: number): number {
  return Math.min(SAFETY_MARGIN, Math.ceil(budget * 0.004));
}

export type Signal =
  | "hot path"
  | "recent change"
  | "ai feedback"
  | "lexical match"
  | "symbol definition"
  | "symbol link"
  | "vector match"
  | "summary fill"
  | "budget fill";

export type ChunkMeta = { chunkId: string; path: string; ordinal: number; startLine: number; endLine: number };
/**
 * A chunk with its text, its text's tokens in the model's tokenizer, and its rendered block's tokens in
 * the base encoding. `textless`: the caller holds this whole chunk's block already, so its text was not
 * read (it is read on demand if only part of the chunk is used).
 */
export type ChunkBody = ChunkMeta & { text: string; tokens: number; block: number; textless?: boolean };
export type Summary = { id: string; kind: "file-summary" | "dir-summary" | "project-summary"; path: string; text: string; tokens: number; block: number };

/** What the assembler reads; the project's index Durable Object implements it over its SQLite. */
export interface RetrievalStore {
  lexical(terms: string[], limit: number): { chunkId: string; score: number }[];
  vector(prompt: string, limit: number): Promise<{ chunkId: string; score: number }[]>;
  definitions(names: string[]): { path: string; line: number }[];
  neighbors(paths: string[]): string[];
  recentPaths(limit: number): string[];
  /** Files of the project's most recently approved AI changes, newest first. */
  approvedPaths(limit: number): string[];
  existingPaths(paths: string[]): Set<string>;
  chunksOfPaths(paths: string[]): ChunkMeta[];
  chunkMeta(ids: string[]): ChunkMeta[];
  fileTokens(paths: string[], tokenizer: Tokenizer): Map<string, number>;
  /** Chunks in the given order; with `heldKeys`, a chunk whose whole block key is held comes back textless. */
  loadChunks(ids: string[], tokenizer: Tokenizer, heldKeys?: string[]): ChunkBody[];
  projectSummary(tokenizer: Tokenizer): Summary | undefined;
  fileSummaries(paths: string[] | "all", tokenizer: Tokenizer): Summary[];
  dirSummaries(tokenizer: Tokenizer): Summary[];
  /** File and directory summaries whose text or path matches the terms, best first (BM25). */
  summaryMatches(terms: string[], limit: number): { level: "file" | "directory"; path: string }[];
  totalTokens(tokenizer: Tokenizer): number;
}

export type AssembleRequest = {
  prompt: string;
  budget: number;
  hotPaths: string[];
  tokenizer: Tokenizer;
  conversation: ConversationMessage[];
  includeText: boolean;
  /** The text of the instruction section when it differs from the retrieval prompt (later passes). */
  instruction?: string;
  /**
   * Keys of blocks the caller already holds (a session's hot window): with it, the text comes back as
   * `blocks`, and those blocks carry their key without their text.
   */
  cachedKeys?: string[];
};

export type ContextPiece = {
  chunkId: string;
  kind: PieceKind;
  tokenCount: number;
  textPreview: string;
  sourcePath: string;
  startLine: number;
  endLine: number;
  score: number;
  reasons: Signal[];
};

/** A piece as audit records and events name it: id, kind, path, lines and tokens, never text. */
export type PieceRef = { id: string; kind: PieceKind; path: string; lines: [number, number]; tokens: number };

export function pieceRefs(pieces: ContextPiece[]): PieceRef[] {
  return pieces.map((p) => ({ id: p.chunkId, kind: p.kind, path: p.sourcePath, lines: [p.startLine, p.endLine], tokens: p.tokenCount }));
}

export type AssembleResult = {
  contextPieces: ContextPiece[];
  tokenTotal: number;
  tokenBudget: number;
  utilization: number;
  timings: Record<string, number>;
  warnings: string[];
  contextText?: string;
  blocks?: PromptBlock[];
};

// Reciprocal-rank fusion: score = sum over signals of weight / (RRF_K + rank). 60 is the usual constant.
const RRF_K = 60;
const WEIGHTS: Record<Exclude<Signal, "summary fill" | "budget fill">, number> = {
  "hot path": 4,
  "symbol definition": 1.4,
  "lexical match": 1.0,
  "recent change": 0.3,
  "ai feedback": 0.4,
  "vector match": 0.5,
  "symbol link": 0.5,
};
// A file up to this many tokens (and at most 1.5 pieces) is taken whole rather than in fragments.
const WHOLE_FILE_TOKENS = 3000;
// A single piece takes at most this share of the budget, within these bounds: at 16k a relevant 8k
// chunk would otherwise crowd out every other file, at 500k whole chunks are cheap.
const PIECE_SHARE = 0.1;
const MIN_PIECE_CAP = 1200;
const MAX_PIECE_CAP = 8000;
// Candidate pool sizes per signal (the spec queries the vector index with top-k 500).
const LEXICAL_K = 300;
const VECTOR_RELATIVE_FLOOR = 0.5;
const SUMMARY_MATCH_K = 200;
const VECTOR_K = 500;
const PREVIEW_CHARS = 200;

export async function assembleContext(store: RetrievalStore, req: AssembleRequest): Promise<AssembleResult> {
  const started = performance.now();
  const timings: Record<string, number> = {};
  const lap = (name: string, since: number): number => {
    const now = performance.now();
    timings[name] = Math.round((now - since) * 100) / 100;
    return now;
  };
  const enc = getEncoding(baseEncoding(req.tokenizer));
  // Budgeting runs in the base encoding's units: blocks add up exactly there (see prompt.ts), and
  // the model's count is derived once from the sum (for Claude, the calibrated scale).
  const base = (s: string): number => enc.count(s);
  const toModel = (n: number): number => (req.tokenizer === "claude" ? scaleToClaude(n) : n);
  const modelCount = (s: string): number => toModel(base(s));
  const warnings: string[] = [];
  const limit = req.budget - safetyMargin(req.budget);
  const fits = (extra: number): boolean => toModel(used + extra) <= limit;

  let used =
    base(systemBlock()) + base(conversationBlock(req.conversation)) + base(instructionBlock(req.instruction ?? req.prompt)) + base(responseFormatBlock());
  if (toModel(used) > limit) {
    throw new AppError(
      400,
      "prompt_too_long",
      `the prompt and conversation take ${toModel(used)} tokens, more than the budget allows (${limit} after the ${req.budget - limit}-token safety margin)`,
    );
  }
  const projectSummary = store.projectSummary(req.tokenizer);
  const withSummary = projectSummary !== undefined && fits(base(SECTION.projectSummary) + projectSummary.block);
  if (withSummary) used += base(SECTION.projectSummary) + projectSummary.block;
  const snippetHeader = base(SECTION.snippets);
  const summaryHeader = base(SECTION.summaries);
  let t = lap("prepare", started);

  // ---- signals ----
  const ranked = new Map<string, { score: number; reasons: Set<Signal> }>();
  const credit = (id: string, signal: Exclude<Signal, "summary fill" | "budget fill">, rank: number): void => {
    const e = ranked.get(id) ?? { score: 0, reasons: new Set<Signal>() };
    e.score += WEIGHTS[signal] / (RRF_K + rank);
    e.reasons.add(signal);
    ranked.set(id, e);
  };
  const hot = store.existingPaths(req.hotPaths);
  for (const p of req.hotPaths) if (!hot.has(p)) warnings.push(`hot path "${p}" is not in the project`);
  for (const [i, c] of store.chunksOfPaths([...hot]).entries()) credit(c.chunkId, "hot path", i);
  for (const [i, c] of store.chunksOfPaths(store.recentPaths(30)).entries()) credit(c.chunkId, "recent change", i);
  for (const [i, c] of store.chunksOfPaths(store.approvedPaths(20)).entries()) credit(c.chunkId, "ai feedback", i);
  for (const [i, h] of store.lexical(queryTerms(req.prompt), LEXICAL_K).entries()) credit(h.chunkId, "lexical match", i);
  t = lap("lexical", t);
  // Only vectors reasonably close to the best match count; the long tail of weak matches is noise.
  const vectorHits = await store.vector(req.prompt, VECTOR_K);
  const vectorFloor = (vectorHits[0]?.score ?? 0) * VECTOR_RELATIVE_FLOOR;
  for (const [i, h] of vectorHits.entries()) if (h.score >= vectorFloor) credit(h.chunkId, "vector match", i);
  t = lap("vector", t);
  const defs = store.definitions(promptIdentifiers(req.prompt));
  const defChunks = store
    .chunksOfPaths([...new Set(defs.map((d) => d.path))])
    .filter((c) => defs.some((d) => d.path === c.path && d.line >= c.startLine && d.line <= c.endLine));
  for (const [i, c] of defChunks.entries()) credit(c.chunkId, "symbol definition", i);
  const meta = new Map(store.chunkMeta([...ranked.keys()]).map((m) => [m.chunkId, m]));
  // Files linked to the best files by imports or by the names they use are likely part of the same change.
  const topFiles = topPaths(ranked, meta, 8);
  for (const [i, c] of store.chunksOfPaths(store.neighbors(topFiles)).entries()) {
    credit(c.chunkId, "symbol link", i);
    meta.set(c.chunkId, c);
  }
  t = lap("symbols", t);

  // ---- packing ----
  const order = [...ranked.entries()].filter(([id]) => meta.has(id)).sort((a, b) => b[1].score - a[1].score || a[0].localeCompare(b[0]));
  const fileOrder: string[] = [];
  const chunksByFile = new Map<string, string[]>();
  for (const [id] of order) {
    const m = meta.get(id) as ChunkMeta;
    if (!chunksByFile.has(m.path)) {
      chunksByFile.set(m.path, []);
      fileOrder.push(m.path);
    }
    chunksByFile.get(m.path)?.push(id);
  }
  const fileTokens = store.fileTokens(fileOrder, req.tokenizer);
  const snippets: { piece: RenderPiece; score: number; reasons: Signal[]; tokens: number; textless?: boolean }[] = [];
  // Pieces are keyed by chunk and first line: an excerpt and, later, the rest of its chunk are distinct pieces.
  const included = new Set<string>();
  const keyOf = (p: RenderPiece): string => `${p.id}:${p.startLine}`;
  const excerpts: { body: ChunkBody; piece: RenderPiece }[] = [];
  const wholeFiles = new Set<string>();
  // Chunks that did not fit, best first: the last gap is filled with a prefix of one of them.
  const leftovers: { piece: PackedPiece; score: number; reasons: Signal[] }[] = [];
  const tryAdd = (p: PackedPiece, score: number, reasons: Signal[]): boolean => {
    if (included.has(keyOf(p.piece))) return true;
    const cost = p.block + (snippets.length === 0 ? snippetHeader : 0);
    if (!fits(cost)) {
      leftovers.push({ piece: p, score, reasons });
      return false;
    }
    used += cost;
    snippets.push({ piece: p.piece, score, reasons, tokens: p.tokens, ...(p.textless ? { textless: true } : {}) });
    included.add(keyOf(p.piece));
    included.add(p.piece.id);
    return true;
  };

  // Breadth first: every relevant file gets its best piece before any file gets a second one. A piece
  // is at most `pieceCap` tokens: a larger chunk is cut to its most relevant window of lines.
  const pieceCap = Math.max(MIN_PIECE_CAP, Math.min(MAX_PIECE_CAP, Math.floor(req.budget * PIECE_SHARE)));
  const focus = focusTerms(req.prompt);
  // Whole chunks whose blocks the caller holds are loaded without their text; a part of one needs it.
  const load = (ids: string[]): ChunkBody[] => store.loadChunks(ids, req.tokenizer, req.cachedKeys);
  const withText = (b: ChunkBody): ChunkBody => (b.textless ? (store.loadChunks([b.chunkId], req.tokenizer)[0] ?? b) : b);
  const textOf = (p: RenderPiece): string => store.loadChunks([p.id], req.tokenizer)[0]?.text ?? "";
  const excerpted = (textless: ChunkBody): PackedPiece => {
    const body = withText(textless);
    const p = excerpt(body, focus, pieceCap, req.tokenizer, base, modelCount);
    if (p.piece.startLine !== body.startLine || p.piece.endLine !== body.endLine) excerpts.push({ body, piece: p.piece });
    return p;
  };
  const rest: string[] = [];
  for (const path of fileOrder) {
    if (!fits(1)) break;
    const ids = chunksByFile.get(path) ?? [];
    const reasons = [...new Set(ids.flatMap((id) => [...(ranked.get(id)?.reasons ?? [])]))];
    const total = fileTokens.get(path) ?? Number.POSITIVE_INFINITY;
    if (total <= Math.min(WHOLE_FILE_TOKENS, pieceCap * 1.5) || hot.has(path)) {
      const pieces = wholeFile(load(store.chunksOfPaths([path]).map((c) => c.chunkId)), withText, base, modelCount);
      const cost = pieces.reduce((n, p) => n + p.block, 0) + (snippets.length === 0 ? snippetHeader : 0);
      if (fits(cost)) {
        for (const p of pieces) tryAdd(p, ranked.get(p.piece.id)?.score ?? 0, reasons);
        wholeFiles.add(path);
        continue;
      }
    }
    const [first, ...others] = load(ids.slice(0, 1));
    if (first) {
      const e = ranked.get(first.chunkId);
      tryAdd(first.tokens > pieceCap ? excerpt(withText(first), focus, pieceCap, req.tokenizer, base, modelCount) : asPiece(first), e?.score ?? 0, [
        ...(e?.reasons ?? []),
      ]);
    }
    rest.push(...others.map((o) => o.chunkId), ...ids.slice(1));
  }
  // Then the other relevant chunks, in rank order.
  rest.sort((a, b) => (ranked.get(b)?.score ?? 0) - (ranked.get(a)?.score ?? 0));
  for (const body of load(rest)) {
    if (!fits(1)) break;
    const e = ranked.get(body.chunkId);
    tryAdd(body.tokens > pieceCap ? excerpted(body) : asPiece(body), e?.score ?? 0, [...(e?.reasons ?? [])]);
  }
  t = lap("pack", t);

  // Every file's summary is read at most once per call: both fill stages walk it.
  let allFileSummaries: Summary[] | undefined;
  const everyFileSummary = (): Summary[] => {
    allFileSummaries ??= store.fileSummaries("all", req.tokenizer);
    return allFileSummaries;
  };

  // ---- summaries fill what is left: files (ranked first), then directories ----
  const summaries: { piece: RenderPiece; tokens: number; score: number }[] = [];
  const addSummary = (s: Summary, score: number): void => {
    const cost = s.block + (summaries.length === 0 ? summaryHeader : 0);
    if (!fits(cost)) return;
    used += cost;
    summaries.push({ piece: toRender(s), tokens: s.tokens, score });
  };
  if (fits(1)) {
    const seen = new Set(wholeFiles);
    for (const s of store.fileSummaries(
      fileOrder.filter((p) => !wholeFiles.has(p)),
      req.tokenizer,
    )) {
      seen.add(s.path);
      addSummary(s, ranked.get(chunksByFile.get(s.path)?.[0] ?? "")?.score ?? 0);
    }
    // Summaries are indexed like chunks: those matching the prompt come next, then the rest.
    const matches = fits(1) ? store.summaryMatches(queryTerms(req.prompt), SUMMARY_MATCH_K) : [];
    const dirs = new Map(store.dirSummaries(req.tokenizer).map((d) => [d.path, d]));
    const matchedFiles = store.fileSummaries(
      matches.filter((m) => m.level === "file" && !seen.has(m.path)).map((m) => m.path),
      req.tokenizer,
    );
    for (const s of matchedFiles) {
      seen.add(s.path);
      addSummary(s, 0);
    }
    for (const m of matches) {
      const d = m.level === "directory" ? dirs.get(m.path) : undefined;
      if (d && fits(1)) {
        addSummary(d, 0);
        dirs.delete(m.path);
      }
    }
    if (fits(1)) for (const s of everyFileSummary()) if (!seen.has(s.path)) addSummary(s, 0);
    if (fits(1)) for (const d of dirs.values()) addSummary(d, 0);
  }
  // ---- and if the project is larger than that, the remaining chunks in path order ----
  if (fits(64) && store.totalTokens(req.tokenizer) > req.budget) {
    for (const path of everyFileSummary().map((s) => s.path)) {
      if (!fits(64)) break;
      if (wholeFiles.has(path)) continue;
      const rest = store.chunksOfPaths([path]).filter((c) => !included.has(c.chunkId));
      for (const body of load(rest.map((c) => c.chunkId))) tryAdd(asPiece(body), 0, ["budget fill"]);
    }
  }
  // ---- the lines of excerpted chunks that were left out, before and after each excerpt ----
  for (const { body, piece } of excerpts) {
    if (!fits(64) || !included.has(keyOf(piece))) continue;
    const lines = body.text.split("\n");
    const part = (from: number, to: number): RenderPiece => ({
      ...piece,
      startLine: from,
      endLine: to,
      text: `${lines.slice(from - body.startLine, to - body.startLine + 1).join("\n")}\n`,
    });
    const e = ranked.get(body.chunkId);
    for (const p of [
      piece.startLine > body.startLine ? part(body.startLine, piece.startLine - 1) : undefined,
      piece.endLine < body.endLine ? part(piece.endLine + 1, body.endLine) : undefined,
    ]) {
      if (p) tryAdd({ piece: p, block: base(renderPiece(p)), tokens: modelCount(p.text) }, e?.score ?? 0, ["budget fill"]);
    }
  }
  // ---- the spec's last step: trim a trailing piece so the remaining gap is used ----
  for (const l of leftovers) {
    if (!fits(64)) break;
    if (included.has(keyOf(l.piece.piece))) continue;
    const header = base(sourceLine(l.piece.piece)) + 4 + (snippets.length === 0 ? snippetHeader : 0);
    const room = roomIn(limit, used + header, req.tokenizer);
    const full = l.piece.textless ? textOf(l.piece.piece) : l.piece.piece.text;
    const prefix = linePrefixWithin(full, room, base);
    if (!prefix) continue;
    const piece: RenderPiece = { ...l.piece.piece, endLine: l.piece.piece.startLine + prefix.lines - 1, text: prefix.text };
    // A prefix is a new block the caller does not hold.
    tryAdd({ piece, block: base(renderPiece(piece)), tokens: modelCount(prefix.text) }, l.score, l.reasons);
  }
  t = lap("fill", t);

  const tokenTotal = toModel(used);
  let contextText: string | undefined;
  let blocks: PromptBlock[] | undefined;
  const held = new Set(req.cachedKeys ?? []);
  if (req.includeText) {
    const rendered = renderBlocks({
      projectSummary: projectSummary && withSummary ? toRender(projectSummary) : undefined,
      // A piece loaded without its text is one the caller holds (its whole block key was held).
      snippets: snippets.map((s) => (s.textless && !held.has(blockKey(s.piece)) ? { ...s.piece, text: textOf(s.piece) } : s.piece)),
      summaries: summaries.map((s) => s.piece),
      conversation: req.conversation,
      instruction: req.instruction ?? req.prompt,
    });
    if (req.cachedKeys) blocks = rendered.map((b) => (b.key && held.has(b.key) ? { key: b.key, text: "" } : b));
    else contextText = rendered.map((b) => b.text).join("");
  }
  lap("render", t);
  timings.total = Math.round((performance.now() - started) * 100) / 100;

  const contextPieces: ContextPiece[] = [];
  if (projectSummary && withSummary) contextPieces.push(toPiece(toRender(projectSummary), projectSummary.tokens, 0, ["summary fill"]));
  for (const s of snippets) contextPieces.push(toPiece(s.piece, s.tokens, s.score, s.reasons));
  for (const s of summaries) contextPieces.push(toPiece(s.piece, s.tokens, s.score, ["summary fill"]));
  return {
    contextPieces,
    tokenTotal,
    tokenBudget: req.budget,
    utilization: Math.round((tokenTotal / req.budget) * 10_000) / 10_000,
    timings,
    warnings,
    ...(contextText !== undefined ? { contextText } : {}),
    ...(blocks ? { blocks } : {}),
  };
}

type PackedPiece = { piece: RenderPiece; block: number; tokens: number; textless?: boolean };

function asPiece(body: ChunkBody): PackedPiece {
  return {
    piece: { id: body.chunkId, kind: "chunk", path: body.path, startLine: body.startLine, endLine: body.endLine, text: body.text },
    block: body.block,
    tokens: body.tokens,
    ...(body.textless ? { textless: true } : {}),
  };
}

/** Query terms and prompt identifiers that make a line worth keeping in an excerpt. */
function focusTerms(prompt: string): { terms: Set<string>; identifiers: Set<string> } {
  return { terms: new Set(queryTerms(prompt)), identifiers: new Set(promptIdentifiers(prompt)) };
}

/**
 * The window of whole lines of a chunk, within `cap` model tokens, that holds the most prompt terms
 * (an identifier the prompt names counts extra). Provenance stays exact: the piece keeps the chunk id
 * and narrows its line range.
 */
function excerpt(
  body: ChunkBody,
  focus: { terms: Set<string>; identifiers: Set<string> },
  cap: number,
  tokenizer: Tokenizer,
  base: (s: string) => number,
  modelCount: (s: string) => number,
): PackedPiece {
  const lines = body.text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const capBase = tokenizer === "claude" ? Math.floor(cap / CLAUDE_TOKEN_FACTOR) : cap;
  const cost = lines.map((l) => base(`${l}\n`));
  const score = lines.map((l) => {
    let sc = 0;
    for (const t of new Set(termsOf(l))) if (focus.terms.has(t)) sc += 1;
    for (const id of focus.identifiers) if (l.includes(id)) sc += 3;
    return sc;
  });
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
  return { piece, block: base(renderPiece(piece)), tokens: modelCount(text) };
}

/** Base-encoding tokens still free under `limit` model tokens. */
function roomIn(limit: number, usedBase: number, tokenizer: Tokenizer): number {
  const free = tokenizer === "claude" ? Math.floor(limit / CLAUDE_TOKEN_FACTOR) - usedBase : limit - usedBase;
  return Math.max(0, free);
}

function toRender(s: Summary): RenderPiece {
  return { id: s.id, kind: s.kind, path: s.path, startLine: 0, endLine: 0, text: s.text };
}

function toPiece(p: RenderPiece, tokens: number, score: number, reasons: Signal[]): ContextPiece {
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

function topPaths(ranked: Map<string, { score: number }>, meta: Map<string, ChunkMeta>, n: number): string[] {
  const best = new Map<string, number>();
  for (const [id, e] of ranked) {
    const m = meta.get(id);
    if (m) best.set(m.path, Math.max(best.get(m.path) ?? 0, e.score));
  }
  return [...best.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([p]) => p);
}

/** The longest whole-line prefix of `text` that counts within `maxTokens`, or undefined if not even one line fits. */
function linePrefixWithin(text: string, maxTokens: number, count: (s: string) => number): { text: string; lines: number; tokens: number } | undefined {
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

/** A whole file as consecutive chunks, each without the lines it repeats from the one before. */
function wholeFile(chunks: ChunkBody[], withText: (c: ChunkBody) => ChunkBody, base: (s: string) => number, modelCount: (s: string) => number): PackedPiece[] {
  const out: PackedPiece[] = [];
  let lastLine = 0;
  for (const chunk of [...chunks].sort((a, b) => a.ordinal - b.ordinal)) {
    if (chunk.startLine > lastLine || chunk.startLine === chunk.endLine) out.push(asPiece(chunk));
    else if (chunk.endLine > lastLine) {
      const c = withText(chunk);
      let at = 0;
      for (let i = c.startLine; i <= lastLine; i++) at = c.text.indexOf("\n", at) + 1;
      const piece: RenderPiece = { id: c.chunkId, kind: "chunk", path: c.path, startLine: lastLine + 1, endLine: c.endLine, text: c.text.slice(at) };
      out.push({ piece, block: base(renderPiece(piece)), tokens: modelCount(piece.text) });
    }
    lastLine = Math.max(lastLine, chunk.endLine);
  }
  return out;
}
