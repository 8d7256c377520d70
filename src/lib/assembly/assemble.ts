/**
 * The context assembler: fuse every retrieval signal into one ranking, pack the best pieces under the
 * budget (whole small files before fragments, only the relevant chunks of large files), fill what is
 * left with file, then directory summaries, and render the prompt in the spec's order. The budget is
 * a hard guarantee: the rendered text is counted whole with the model's tokenizer.
 */
import { AppError } from "../errors";
import { promptIdentifiers, queryTerms } from "../retrieval/terms";
import { countWith, type Tokenizer } from "../tokenizer";
import { type ConversationMessage, type PieceKind, type RenderPiece, renderPiece, renderPrompt } from "./prompt";

/**
 * Headroom the spec reserves out of every budget (~2,000 tokens at 500k). It scales down with
 * smaller budgets (0.4%), so a 16k budget is not a quarter headroom.
 */
export const SAFETY_MARGIN = 2000;
export function safetyMargin(budget: number): number {
  return Math.min(SAFETY_MARGIN, Math.ceil(budget * 0.004));
}

export type Signal = "hot path" | "recent change" | "lexical match" | "symbol definition" | "import link" | "vector match" | "summary fill" | "budget fill";

export type ChunkMeta = { chunkId: string; path: string; ordinal: number; startLine: number; endLine: number };
export type ChunkBody = ChunkMeta & { text: string; tokens: number };
export type Summary = { id: string; kind: "file-summary" | "dir-summary" | "project-summary"; path: string; text: string; tokens: number };

/** What the assembler reads; the project's index Durable Object implements it over its SQLite. */
export interface RetrievalStore {
  lexical(terms: string[], limit: number): { chunkId: string; score: number }[];
  vector(prompt: string, limit: number): Promise<{ chunkId: string; score: number }[]>;
  definitions(names: string[]): { path: string; line: number }[];
  neighbors(paths: string[]): string[];
  recentPaths(limit: number): string[];
  existingPaths(paths: string[]): Set<string>;
  chunksOfPaths(paths: string[]): ChunkMeta[];
  chunkMeta(ids: string[]): ChunkMeta[];
  fileTokens(paths: string[], tokenizer: Tokenizer): Map<string, number>;
  loadChunks(ids: string[], tokenizer: Tokenizer): ChunkBody[];
  projectSummary(tokenizer: Tokenizer): Summary | undefined;
  fileSummaries(paths: string[] | "all", tokenizer: Tokenizer): Summary[];
  dirSummaries(tokenizer: Tokenizer): Summary[];
  totalTokens(tokenizer: Tokenizer): number;
}

export type AssembleRequest = {
  prompt: string;
  budget: number;
  hotPaths: string[];
  tokenizer: Tokenizer;
  conversation: ConversationMessage[];
  includeText: boolean;
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

export type AssembleResult = {
  contextPieces: ContextPiece[];
  tokenTotal: number;
  tokenBudget: number;
  utilization: number;
  timings: Record<string, number>;
  warnings: string[];
  contextText?: string;
};

// Reciprocal-rank fusion: score = sum over signals of weight / (RRF_K + rank). 60 is the usual constant.
const RRF_K = 60;
const WEIGHTS: Record<Exclude<Signal, "summary fill" | "budget fill">, number> = {
  "hot path": 4,
  "symbol definition": 1.4,
  "lexical match": 1.0,
  "recent change": 0.6,
  "vector match": 0.7,
  "import link": 0.5,
};
// A file up to this many tokens is taken whole rather than in fragments.
const WHOLE_FILE_TOKENS = 3000;
// Candidate pool sizes per signal (the spec queries the vector index with top-k 500).
const LEXICAL_K = 300;
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
  const count = (s: string): number => countWith(req.tokenizer, s);
  const warnings: string[] = [];
  const limit = req.budget - safetyMargin(req.budget);

  const projectSummary = store.projectSummary(req.tokenizer);
  // The skeleton is every fixed part: system prompt, section headers, conversation, instruction, format.
  const skeleton = renderPrompt({
    projectSummary: projectSummary ? { ...toRender(projectSummary), text: "" } : undefined,
    snippets: [placeholder()],
    summaries: [placeholder()],
    conversation: req.conversation,
    instruction: req.prompt,
  });
  let used = count(skeleton);
  if (used > limit)
    throw new AppError(
      400,
      "prompt_too_long",
      `the prompt and conversation take ${used} tokens, more than the budget allows (${limit} after the ${req.budget - limit}-token safety margin)`,
    );
  const withSummary = projectSummary !== undefined && used + projectSummary.tokens <= limit;
  if (withSummary) used += projectSummary.tokens;
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
  for (const [i, h] of store.lexical(queryTerms(req.prompt), LEXICAL_K).entries()) credit(h.chunkId, "lexical match", i);
  t = lap("lexical", t);
  for (const [i, h] of (await store.vector(req.prompt, VECTOR_K)).entries()) credit(h.chunkId, "vector match", i);
  t = lap("vector", t);
  const defs = store.definitions(promptIdentifiers(req.prompt));
  const defChunks = store
    .chunksOfPaths([...new Set(defs.map((d) => d.path))])
    .filter((c) => defs.some((d) => d.path === c.path && d.line >= c.startLine && d.line <= c.endLine));
  for (const [i, c] of defChunks.entries()) credit(c.chunkId, "symbol definition", i);
  const meta = new Map(store.chunkMeta([...ranked.keys()]).map((m) => [m.chunkId, m]));
  // Files the best files import, or are imported by, are likely part of the same change.
  const topFiles = topPaths(ranked, meta, 8);
  for (const [i, c] of store.chunksOfPaths(store.neighbors(topFiles).filter((p) => !topFiles.includes(p))).entries()) {
    credit(c.chunkId, "import link", i);
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
  const snippets: { piece: RenderPiece; cost: number; score: number; reasons: Signal[]; tokens: number }[] = [];
  const included = new Set<string>();
  const wholeFiles = new Set<string>();
  // Chunks that did not fit, best first: the last gap is filled with a prefix of one of them.
  const leftovers: { body: ChunkBody; text: string; startLine: number; score: number; reasons: Signal[] }[] = [];
  const tryAdd = (body: ChunkBody, text: string, startLine: number, tokens: number, score: number, reasons: Signal[]): boolean => {
    if (included.has(body.chunkId)) return true;
    const piece: RenderPiece = { id: body.chunkId, kind: "chunk", path: body.path, startLine, endLine: body.endLine, text };
    const cost = tokens + count(renderPiece({ ...piece, text: "" }));
    if (used + cost > limit) {
      leftovers.push({ body, text, startLine, score, reasons });
      return false;
    }
    used += cost;
    snippets.push({ piece, cost, score, reasons, tokens });
    included.add(body.chunkId);
    return true;
  };

  for (const path of fileOrder) {
    if (used >= limit) break;
    const ids = chunksByFile.get(path) ?? [];
    const best = ranked.get(ids[0] as string);
    const reasons = [...new Set(ids.flatMap((id) => [...(ranked.get(id)?.reasons ?? [])]))];
    const total = fileTokens.get(path) ?? Number.POSITIVE_INFINITY;
    if (total <= WHOLE_FILE_TOKENS || hot.has(path)) {
      const all = store.loadChunks(
        store.chunksOfPaths([path]).map((c) => c.chunkId),
        req.tokenizer,
      );
      const pieces = trimOverlaps(all, count);
      const cost = pieces.reduce(
        (n, p) => n + p.tokens + count(renderPiece({ id: p.body.chunkId, kind: "chunk", path, startLine: p.startLine, endLine: p.body.endLine, text: "" })),
        0,
      );
      if (used + cost <= limit) {
        for (const p of pieces) tryAdd(p.body, p.text, p.startLine, p.tokens, ranked.get(p.body.chunkId)?.score ?? best?.score ?? 0, reasons);
        wholeFiles.add(path);
        continue;
      }
    }
    // A large file (or a small one that no longer fits whole) contributes only its relevant chunks.
    for (const body of store.loadChunks(ids, req.tokenizer)) {
      const e = ranked.get(body.chunkId);
      tryAdd(body, body.text, body.startLine, body.tokens, e?.score ?? 0, [...(e?.reasons ?? [])]);
    }
  }
  t = lap("pack", t);

  // ---- summaries fill what is left: files (ranked first), then directories ----
  const summaries: { piece: RenderPiece; tokens: number; score: number }[] = [];
  const addSummary = (s: Summary, score: number): void => {
    const piece = toRender(s);
    const cost = s.tokens + count(renderPiece({ ...piece, text: "" }));
    if (used + cost > limit) return;
    used += cost;
    summaries.push({ piece, tokens: s.tokens, score });
  };
  if (used < limit) {
    const seen = new Set(wholeFiles);
    const rankedSummaries = store.fileSummaries(
      fileOrder.filter((p) => !wholeFiles.has(p)),
      req.tokenizer,
    );
    for (const s of rankedSummaries) {
      seen.add(s.path);
      addSummary(s, ranked.get(chunksByFile.get(s.path)?.[0] ?? "")?.score ?? 0);
    }
    if (used < limit) for (const s of store.fileSummaries("all", req.tokenizer)) if (!seen.has(s.path)) addSummary(s, 0);
    if (used < limit) for (const s of store.dirSummaries(req.tokenizer)) addSummary(s, 0);
  }
  // ---- and if the project is larger than that, the remaining chunks in index order ----
  if (used < limit && store.totalTokens(req.tokenizer) > req.budget) {
    for (const path of store.fileSummaries("all", req.tokenizer).map((s) => s.path)) {
      if (used >= limit - 64) break;
      if (wholeFiles.has(path)) continue;
      const rest = store.chunksOfPaths([path]).filter((c) => !included.has(c.chunkId));
      for (const body of store.loadChunks(
        rest.map((c) => c.chunkId),
        req.tokenizer,
      ))
        tryAdd(body, body.text, body.startLine, body.tokens, 0, ["budget fill"]);
    }
  }
  // ---- the spec's last step: trim a trailing piece so the remaining gap is used ----
  for (const l of leftovers) {
    if (limit - used < 64) break;
    if (included.has(l.body.chunkId)) continue;
    const prefix = linePrefixWithin(
      l.text,
      limit -
        used -
        count(renderPiece({ id: l.body.chunkId, kind: "chunk", path: l.body.path, startLine: l.startLine, endLine: l.body.endLine, text: "" })) -
        8,
      count,
    );
    if (!prefix) continue;
    const endLine = l.startLine + prefix.lines - 1;
    const piece: RenderPiece = { id: l.body.chunkId, kind: "chunk", path: l.body.path, startLine: l.startLine, endLine, text: prefix.text };
    const cost = prefix.tokens + count(renderPiece({ ...piece, text: "" }));
    if (used + cost > limit) continue;
    used += cost;
    snippets.push({ piece, cost, score: l.score, reasons: l.reasons, tokens: prefix.tokens });
    included.add(l.body.chunkId);
  }
  t = lap("fill", t);

  // ---- render and count the whole text; drop the last pieces if seams pushed it over ----
  let contextText = render();
  let tokenTotal = count(contextText);
  while (tokenTotal > limit && (summaries.length > 0 || snippets.length > 0)) {
    if (summaries.length > 0) summaries.pop();
    else snippets.pop();
    contextText = render();
    tokenTotal = count(contextText);
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
    ...(req.includeText ? { contextText } : {}),
  };

  function render(): string {
    return renderPrompt({
      projectSummary: projectSummary && withSummary ? toRender(projectSummary) : undefined,
      snippets: snippets.map((s) => s.piece),
      summaries: summaries.map((s) => s.piece),
      conversation: req.conversation,
      instruction: req.prompt,
    });
  }
}

function placeholder(): RenderPiece {
  return { id: "", kind: "chunk", path: "", startLine: 0, endLine: 0, text: "" };
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

/** Consecutive chunks of one file without the lines each repeats from the one before. */
function trimOverlaps(chunks: ChunkBody[], count: (s: string) => number): { body: ChunkBody; text: string; startLine: number; tokens: number }[] {
  const out: { body: ChunkBody; text: string; startLine: number; tokens: number }[] = [];
  let lastLine = 0;
  for (const c of [...chunks].sort((a, b) => a.ordinal - b.ordinal)) {
    if (c.startLine > lastLine || c.startLine === c.endLine) {
      out.push({ body: c, text: c.text, startLine: c.startLine, tokens: c.tokens });
    } else if (c.endLine > lastLine) {
      const skip = lastLine - c.startLine + 1;
      let at = 0;
      for (let i = 0; i < skip; i++) at = c.text.indexOf("\n", at) + 1;
      const text = c.text.slice(at);
      out.push({ body: c, text, startLine: lastLine + 1, tokens: count(text) });
    }
    lastLine = Math.max(lastLine, c.endLine);
  }
  return out;
}
