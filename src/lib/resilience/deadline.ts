/**
 * Deadlines for awaits on other objects and services. A promise that never settles (a lost RPC, a
 * storage call that hangs, a git host that never answers) must not hold a queue consumer forever: the
 * local queue delivers one batch at a time, so one hung invocation stops every project's ingestion.
 */

/** A deadline passed: retryable, and names what was awaited and for how long. */
export class DeadlineError extends Error {
  override name = "DeadlineError";
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} did not answer within ${ms} ms`);
  }
}

/** `promise`, or a DeadlineError once `ms` have passed; the timer never outlives the race. */
export async function withDeadline<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

// Why these numbers: an R2 or D1 call answers in milliseconds, a batch write of ~250 rows in well under a
// second; indexing ~1 MiB of text in the project's shard takes seconds; a git host answers one file in
// well under 30 s. Each deadline is generous enough never to fail a healthy call on a loaded machine.
export type DeadlineKind = "storage" | "catalogBatch" | "shard" | "gitHost";
export const DEADLINES: Readonly<Record<DeadlineKind, number>> = {
  storage: 30_000,
  catalogBatch: 60_000,
  shard: 180_000,
  gitHost: 30_000,
};
