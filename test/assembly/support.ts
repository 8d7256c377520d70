/** Plain-data fakes for the assembler's unit tests. */
import type { Counter } from "../../src/lib/assembly/pieces";
import type { ChunkBody, ChunkMeta, RetrievalStore, Summary } from "../../src/lib/assembly/types";
import { directoryOf, isAtTop, nameOf } from "../../src/lib/retrieval/directory";

/** One token per character: easy to reason about in expectations. */
export const charCounter: Counter = { tokenizer: "cl100k_base", base: (s) => s.length, modelCount: (s) => s.length, toModel: (n) => n };

export const body = (chunkId: string, path: string, startLine: number, lines: string[], ordinal = 0): ChunkBody => {
  const text = lines.map((l) => `${l}\n`).join("");
  return { chunkId, path, ordinal, startLine, endLine: startLine + lines.length - 1, text, tokens: text.length, block: text.length + 10 };
};

export const summary = (kind: Summary["kind"], path: string, block = 20): Summary => ({
  id: `sum:${path}`,
  kind,
  path,
  text: `${path} summary`,
  tokens: block - 5,
  block,
});

/** A store over in-memory chunks; every search answers from the lists given. */
export function fakeStore(chunks: ChunkBody[], over: Partial<RetrievalStore> = {}): RetrievalStore {
  const meta = (c: ChunkBody): ChunkMeta => ({ chunkId: c.chunkId, path: c.path, ordinal: c.ordinal, startLine: c.startLine, endLine: c.endLine });
  const paths = [...new Set(chunks.map((c) => c.path))];
  return {
    lexical: () => [],
    mentioned: () => [],
    termStats: (terms) => ({ chunks: chunks.length, df: new Map(terms.map((t) => [t, chunks.filter((c) => c.text.toLowerCase().includes(t)).length])) }),
    vector: async () => [],
    definitions: () => [],
    neighbors: () => [],
    linksFrom: () => [],
    recentPaths: () => [],
    approvedPaths: () => [],
    existingPaths: (ps) => new Set(ps.filter((p) => paths.includes(p))),
    filesIn: (dirs) => paths.filter((p) => dirs.includes(directoryOf(p))).sort(),
    filesAtTop: () => paths.filter(isAtTop).sort(),
    filesNamed: (names) => paths.filter((p) => names.includes(nameOf(p))).sort(),
    chunksOfPaths: (ps) => ps.flatMap((p) => chunks.filter((c) => c.path === p).map(meta)),
    chunkMeta: (ids) => chunks.filter((c) => ids.includes(c.chunkId)).map(meta),
    fileTokens: (ps) => new Map(ps.map((p) => [p, chunks.filter((c) => c.path === p).reduce((n, c) => n + c.tokens, 0)])),
    loadChunks: (ids) => ids.flatMap((id) => chunks.filter((c) => c.chunkId === id)),
    projectSummary: () => undefined,
    fileSummaries: (ps) => (ps === "all" ? paths : ps).map((p) => summary("file-summary", p)),
    dirSummaries: () => [],
    summaryMatches: () => [],
    totalTokens: () => chunks.reduce((n, c) => n + c.tokens, 0),
    ...over,
  };
}
