/**
 * Checking a proposed change's citations against what was actually sent. A citation names a chunk id,
 * optionally with the lines it relies on (`chk_…:12-30`); both must match a piece of the context sent:
 * the id, and the lines inside that piece's line range. Anything else is reported, never trusted.
 */
import type { ContextPiece } from "../assembly/types";
import type { Plan, ProposedChange } from "./schemas";

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

/** A claim of an answer and the citations it gives (`chk_…:12-30`). */
export type Claim = { claim: string; citations: string[] };
export type ClaimProblem = { claim: string; problem: string };

export const planClaims = (plan: Plan): Claim[] => plan.steps.map((s) => ({ claim: s.description, citations: s.sources }));

/** A change's claims; a change that edits files but explains nothing is one unsupported claim. */
export function changeClaims(change: ProposedChange): Claim[] {
  const claims = change.sources.map((s) => ({ claim: s.claim, citations: s.chunkIds }));
  const edits = change.files.length > 0 || Boolean(change.diff);
  return claims.length === 0 && edits ? [{ claim: "(the change as a whole)", citations: [] }] : claims;
}

/**
 * The assert stage's check: a claim is supported when at least one of its citations names a chunk sent
 * and a line range inside what was sent of it. Each unsupported claim comes with why.
 */
export function claimProblems(claims: Claim[], sent: SentSources): ClaimProblem[] {
  return claims.flatMap(({ claim, citations }) => {
    if (citations.length === 0) return [{ claim, problem: "cites no source" }];
    const why = citations.map((citation) => {
      const [, id = citation, start, end] = CITATION.exec(citation) ?? [];
      if (!sent.has(id)) return `${id} was not in the prompt`;
      if (start === undefined || end === undefined) return `${id} is cited without a line range`;
      return sent.covers(id, Number(start), Number(end)) ? null : `lines ${start}-${end} of ${id} were not in the prompt`;
    });
    return why.includes(null) ? [] : [{ claim, problem: why.join("; ") }];
  });
}
