/**
 * Turns of the runtime's event loop between pieces of synchronous work. Deployed, each invocation has its
 * isolate to itself; locally (`wrangler dev`, the tests) one workerd thread serves every request, queue
 * batch and Durable Object, and awaiting a settled promise (a digest, an async function that never does
 * I/O) does not let it poll its sockets. A queue batch that chunks a few MB would hold that thread for
 * seconds: every request waits, and workerd's HTTP server closes a kept-alive connection whose next
 * request it has not read 5 s after its last answer (kj's pipelineTimeout), losing that request
 * (docs/architecture.md, "Requests lost under wrangler dev").
 */

/** Resolves after one turn of the event loop: a timer, since only a timer or I/O lets it poll. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** `fn` on each item in order, each awaited, with a turn of the event loop after each; the results in order. */
export async function mapWithTurns<T, R>(items: Iterable<T>, fn: (item: T) => R | Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) {
    out.push(await fn(item));
    await yieldToEventLoop();
  }
  return out;
}
