import { describe, expect, it } from "vitest";
import { mapWithTurns, yieldToEventLoop } from "../../src/lib/resilience/yield";

// Locally one workerd thread serves every request and queue batch: synchronous work must give the event
// loop turns, or a request waiting on a kept-alive connection is dropped (docs/architecture.md).
describe("turns of the event loop between pieces of synchronous work", () => {
  it("yieldToEventLoop lets a timer that is already due run before it resolves", async () => {
    const order: string[] = [];
    setTimeout(() => order.push("timer"), 0);
    await Promise.resolve();
    order.push("after a microtask");
    await yieldToEventLoop();
    order.push("after a turn");
    expect(order).toEqual(["after a microtask", "timer", "after a turn"]);
  });

  it("mapWithTurns runs what became due during one item before the next item starts", async () => {
    const order: string[] = [];
    const results = await mapWithTurns([1, 2, 3], async (n) => {
      order.push(`item ${n}`);
      if (n === 1) setTimeout(() => order.push("timer set by item 1"), 0);
      return n * 10;
    });
    expect(order).toEqual(["item 1", "timer set by item 1", "item 2", "item 3"]);
    expect(results).toEqual([10, 20, 30]);
  });

  it("mapWithTurns stops at the first item that fails, with its error", async () => {
    const seen: number[] = [];
    const run = mapWithTurns([1, 2, 3], (n) => {
      seen.push(n);
      if (n === 2) throw new Error("item 2 failed");
      return n;
    });
    await expect(run).rejects.toThrow("item 2 failed");
    expect(seen).toEqual([1, 2]);
  });
});
