/**
 * Awaits independent reads at once, and fails as they would have in sequence: with the first rejection in
 * the order given, not the first in time. So a request that is both unauthorised and over its quota always
 * gets the same error, whichever database answer comes back first.
 */
export async function allInOrder<T extends readonly unknown[]>(reads: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(reads);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
