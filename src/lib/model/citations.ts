/**
 * Checking a proposed change's citations against what was actually sent. A citation names a chunk id,
 * optionally with the lines it relies on (`chk_…:12-30`); both must match a piece of the context sent:
 * the id, and the lines inside that piece's line range. Anything else is reported, never trusted.
 */
import type { ContextPiece } from "../assembly/types";
import type { ProposedChange } from "./schemas";

/** The pieces sent to the model across a generation's passes: each id with the line ranges shown. */
export class SentSources {
  private readonly ranges = new Map<string, [number, number][]>();

  add(pieces: Iterable<Pick<ContextPiece, "chunkId" | "startLine" | "endLine">>): void {
    for (const p of pieces) this.ranges.set(p.chunkId, [...(this.ranges.get(p.chunkId) ?? []), [p.startLine, p.endLine]]);
  }

  has(id: string): boolean {
    return this.ranges.has(id);
  }

  /** Whether lines `start`..`end` of the id's source were inside one range sent. */
  covers(id: string, start: number, end: number): boolean {
    return (this.ranges.get(id) ?? []).some(([s, e]) => start >= s && end <= e);
  }
}

const CITATION = /^(.+?)(?::(\d+)-(\d+))?$/;

/** Citations whose chunk id was not sent, or whose lines lie outside what was sent of it. */
export function unknownCitations(change: ProposedChange, sent: SentSources): string[] {
  return change.sources.flatMap((s) =>
    s.chunkIds.flatMap((citation) => {
      const [, id = citation, start, end] = CITATION.exec(citation) ?? [];
      if (!sent.has(id)) return [`claim "${s.claim}" cites ${id}, which was not in the context sent`];
      if (start !== undefined && end !== undefined && !sent.covers(id, Number(start), Number(end))) {
        return [`claim "${s.claim}" cites lines ${start}-${end} of ${id}, which were not in the context sent`];
      }
      return [];
    }),
  );
}
