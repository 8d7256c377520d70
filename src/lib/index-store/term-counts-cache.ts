/**
 * The shard's document counts of query terms, kept between assemblies until its chunks change: a bug
 * report names a few hundred words, most of which earlier reports named too, and reading their counts
 * from `chunks_vocab` is a fixed cost of every assembly on a large project.
 */

// Terms remembered at most; past it the cache starts over (a bound on the shard's memory, not a policy).
const MAX_TERMS = 200_000;

export type TermCounts = { chunks: number; df: Map<string, number> };

export class TermCountsCache {
  private chunks: number | undefined;
  /** Each term asked, with the chunks holding it (0 for none). */
  private readonly df = new Map<string, number>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly maxTerms = MAX_TERMS,
  ) {}

  /** How many chunks there are and how many hold each of `terms` (terms no chunk holds are left out). */
  get(terms: string[]): TermCounts {
    this.chunks ??= this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM chunks").one().n;
    const fresh = [...new Set(terms.filter((t) => !this.df.has(t)))];
    if (fresh.length > 0) {
      if (this.df.size + fresh.length > this.maxTerms) this.df.clear();
      for (const t of fresh) this.df.set(t, 0);
      for (const r of this.sql.exec<{ term: string; doc: number }>(
        "SELECT term, doc FROM chunks_vocab WHERE term IN (SELECT value FROM json_each(?))",
        JSON.stringify(fresh),
      ))
        this.df.set(r.term, r.doc);
    }
    const df = new Map<string, number>();
    for (const t of terms) {
      const n = this.df.get(t) ?? 0;
      if (n > 0) df.set(t, n);
    }
    return { chunks: this.chunks, df };
  }

  /** After any write to the chunks. */
  invalidate(): void {
    this.chunks = undefined;
    this.df.clear();
  }
}
