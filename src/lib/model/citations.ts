/** Checking a proposed change's citations against the chunks actually sent. */
import type { ProposedChange } from "./schemas";

/** Citations of chunk ids that were not in the context sent: reported, never trusted. */
export function unknownCitations(change: ProposedChange, sent: Set<string>): string[] {
  return change.sources.flatMap((s) =>
    s.chunkIds.filter((id) => !sent.has(id)).map((id) => `claim "${s.claim}" cites ${id}, which was not in the context sent`),
  );
}
