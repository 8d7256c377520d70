/**
 * Reads that go to D1 together, as one batch: one round trip where each query would be one (about 2–3 ms
 * each on a local D1, more across a network), and one consistent state, since D1 runs a batch as one
 * transaction. A read is its queries and what their rows mean. Meanings are applied in the order given, so
 * the first read to fail in that order is the error, whichever query it came from.
 *
 * D1 hands a batch's rows over as objects, so a query whose columns share a name (a join selecting both
 * tables' `id`) must not be read this way: only one of the two would survive.
 */
import type { Db, Statement } from "./db";

export type Read<T> = { queries: Statement[]; meaning(results: readonly unknown[]): T };

/** One query and what its rows mean. */
export function read<Q extends Statement, T>(query: Q, meaning: (rows: Awaited<Q>) => T): Read<T> {
  return { queries: [query], meaning: (results) => meaning(results[0] as Awaited<Q>) };
}

/** Several reads as one, whose meaning is made of theirs (each taken in order, so the first error in order wins). */
export function together<T extends readonly unknown[], R>(reads: { [K in keyof T]: Read<T[K]> }, meaning: (values: T) => R): Read<R> {
  const list = reads as readonly Read<unknown>[];
  return {
    queries: list.flatMap((r) => r.queries),
    meaning(results) {
      let at = 0;
      const values = list.map((r) => {
        const own = results.slice(at, at + r.queries.length);
        at += r.queries.length;
        return r.meaning(own);
      });
      return meaning(values as unknown as T);
    },
  };
}

/** A read's value: its one query sent alone, or its queries as one batch. */
export async function readNow<T>(db: Db, r: Read<T>): Promise<T> {
  const [first, ...rest] = r.queries;
  if (!first) return r.meaning([]);
  const results: readonly unknown[] = rest.length === 0 ? [await first] : await db.batch([first, ...rest]);
  return r.meaning(results);
}

/** The values of independent reads, in one round trip. */
export function readAtOnce<T extends readonly unknown[]>(db: Db, reads: { [K in keyof T]: Read<T[K]> }): Promise<T> {
  return readNow(
    db,
    together<T, T>(reads, (values) => values),
  );
}
