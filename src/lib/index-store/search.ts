/**
 * Code search over the shard: the assembler's own fused ranking (every retrieval signal, src/lib/assembly/rank.ts)
 * for a query, as a list of chunks with a preview, instead of a packed prompt.
 */
import type { RankingFeature, RetrievalStore, Signal } from "../assembly/assemble";
import { rankChunks } from "../assembly/rank";
import { queryTerms } from "../retrieval/terms";

export type SearchHit = { chunkId: string; path: string; startLine: number; endLine: number; score: number; reasons: Signal[]; preview: string };

// A file contributes at most this many chunks, so one large file does not fill the list.
const CHUNKS_PER_FILE = 3;
// Lines a preview shows: the first line holding a query term and the ones after it.
const PREVIEW_LINES = 3;
const PREVIEW_LINE_CHARS = 200;

/** The best `limit` chunks for `query`, best file first, each file's chunks best first. */
export async function searchChunks(
  store: RetrievalStore,
  sql: SqlStorage,
  query: string,
  limit: number,
  rankingOff: RankingFeature[] = [],
): Promise<SearchHit[]> {
  const ranking = await rankChunks(store, { prompt: query, hotPaths: [], rankingOff }, [], () => {});
  const ids = ranking.fileOrder.flatMap((path) => (ranking.chunksByFile.get(path) ?? []).slice(0, CHUNKS_PER_FILE)).slice(0, limit);
  const meta = new Map(store.chunkMeta(ids).map((m) => [m.chunkId, m]));
  const texts = chunkTexts(sql, ids);
  const terms = queryTerms(query);
  return ids.flatMap((id) => {
    const m = meta.get(id);
    const fused = ranking.ranked.get(id);
    if (!m || !fused) return [];
    const score = Math.round(fused.score * 1e6) / 1e6;
    return [
      {
        chunkId: id,
        path: m.path,
        startLine: m.startLine,
        endLine: m.endLine,
        score,
        reasons: [...fused.reasons],
        preview: previewOf(texts.get(id) ?? "", terms),
      },
    ];
  });
}

function chunkTexts(sql: SqlStorage, ids: string[]): Map<string, string> {
  if (ids.length === 0) return new Map();
  const rows = sql.exec<{ chunk_id: string; text: string }>(
    "SELECT chunk_id, text FROM chunks WHERE chunk_id IN (SELECT value FROM json_each(?))",
    JSON.stringify(ids),
  );
  return new Map(rows.toArray().map((r) => [r.chunk_id, r.text]));
}

/** The first line that holds a query term (else the first non-blank line) and the lines after it, each cut short. */
export function previewOf(text: string, terms: string[]): string {
  const lines = text.split("\n");
  const lower = terms.map((t) => t.toLowerCase());
  let at = lines.findIndex((l) => lower.some((t) => l.toLowerCase().includes(t)));
  if (at < 0)
    at = Math.max(
      0,
      lines.findIndex((l) => l.trim() !== ""),
    );
  return lines
    .slice(at, at + PREVIEW_LINES)
    .map((l) => (l.length > PREVIEW_LINE_CHARS ? `${l.slice(0, PREVIEW_LINE_CHARS)}…` : l))
    .join("\n")
    .trimEnd();
}
