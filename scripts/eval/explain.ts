/**
 * `npm run eval -- --explain <budget>`: for a case whose files are found at a budget but not all its changed
 * lines, where each missed line arrives in the largest budget's context. Packing is nested, so that context
 * is the smaller one's continuation: a line's piece says how far past the budget it comes and why.
 */
import type { Gold } from "./gold";

/** What the eval reads of a context piece, in the answer's order. */
export type ExplainedPiece = { kind: string; sourcePath: string; startLine: number; endLine: number; tokenCount: number; score: number; reasons: string[] };

/** A piece of the larger context past the budget, and the tokens of chunk pieces before it. */
export type LaterPiece = { at: number; startLine: number; endLine: number; tokens: number; score: number; reasons: string[] };

/** A changed file's lines outside the context at the budget, each with the later piece that holds it. */
export type MissedFile = {
  path: string;
  /** The file's place among the files of the larger context (0 = first). */
  rank: number;
  /** Tokens of the pieces before the file's first piece. */
  firstAt: number;
  missed: { line: number; piece?: LaterPiece }[];
};

/**
 * The changed files with lines outside the first `budget` tokens of `pieces` (the largest budget's context),
 * in the order of `gold`. A piece counts as inside when it ends within the budget (its tokens, not the
 * section headers around them, so a piece at the budget's very edge may be counted out).
 */
export function missedLines(pieces: ExplainedPiece[], gold: Gold, budget: number): MissedFile[] {
  const chunks = pieces.filter((p) => p.kind === "chunk");
  const at: number[] = [];
  let sum = 0;
  for (const p of chunks) {
    at.push(sum);
    sum += p.tokenCount;
  }
  const files = [...new Set(chunks.map((p) => p.sourcePath))];
  const out: MissedFile[] = [];
  for (const [path, lines] of gold) {
    const mine = chunks.flatMap((p, i) => (p.sourcePath === path ? [{ p, at: at[i] as number }] : []));
    const holds = (line: number, within: boolean) =>
      mine.find(({ p, at }) => p.startLine <= line && line <= p.endLine && (!within || at + p.tokenCount <= budget));
    const missed = [...new Set(lines)]
      .filter((line) => !holds(line, true))
      .map((line) => {
        const later = holds(line, false);
        if (!later) return { line };
        const { p, at } = later;
        return { line, piece: { at, startLine: p.startLine, endLine: p.endLine, tokens: p.tokenCount, score: p.score, reasons: p.reasons } };
      });
    if (missed.length > 0) out.push({ path, rank: files.indexOf(path), firstAt: mine[0]?.at ?? -1, missed });
  }
  return out;
}

/** One line per missed piece: where it comes, what it holds of the fix, why it ranks where it does. */
export function explainLines(files: MissedFile[]): string[] {
  const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
  return files.flatMap((f) => {
    const byPiece = new Map<string, { piece: LaterPiece; lines: number[] }>();
    const absent: number[] = [];
    for (const m of f.missed) {
      if (!m.piece) {
        absent.push(m.line);
        continue;
      }
      const key = `${m.piece.startLine}-${m.piece.endLine}`;
      const entry = byPiece.get(key) ?? { piece: m.piece, lines: [] };
      entry.lines.push(m.line);
      byPiece.set(key, entry);
    }
    return [
      `    ${f.path}: file ${f.rank < 0 ? "absent" : `#${f.rank + 1}, first piece at ${k(f.firstAt)}`}`,
      ...[...byPiece.values()].map(
        ({ piece, lines }) =>
          `      lines ${lines.join(",")} in ${piece.startLine}-${piece.endLine} (${piece.tokens} tokens) at ${k(piece.at)}, score ${piece.score.toFixed(4)}: ${piece.reasons.join(", ")}`,
      ),
      ...(absent.length > 0 ? [`      lines ${absent.join(",")} in no piece`] : []),
    ];
  });
}
