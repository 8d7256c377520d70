import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assembleContext } from "../../src/lib/assembly/assemble";
import { safetyMargin } from "../../src/lib/assembly/budget";
import { body, fakeStore, summary } from "./support";

const chunks = Array.from({ length: 30 }, (_, i) =>
  body(
    `c${i}`,
    `src/f${i % 7}.ts`,
    1 + 20 * Math.floor(i / 7),
    Array.from({ length: 20 }, (_, l) => `retry the request ${i} ${l}`),
  ),
);
const store = fakeStore(chunks, {
  lexical: () => chunks.map((c, i) => ({ chunkId: c.chunkId, score: 30 - i })),
  projectSummary: () => summary("project-summary", ""),
});

describe("section token counts", () => {
  it("add up to tokenTotal for every budget and tokenizer, with the safety margin beside them", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 4_096, max: 60_000 }),
        fc.constantFrom("claude" as const, "cl100k_base" as const),
        fc.array(fc.record({ role: fc.constantFrom("user", "assistant"), content: fc.string({ maxLength: 200 }) }), { maxLength: 3 }),
        async (budget, tokenizer, conversation) => {
          const res = await assembleContext(store, { prompt: "why does retry fail?", budget, hotPaths: [], tokenizer, conversation, includeText: false });
          const { safetyMargin: margin, ...sections } = res.sections;
          expect(Object.values(sections).reduce((a, b) => a + b, 0)).toBe(res.tokenTotal);
          expect(margin).toBe(safetyMargin(budget));
          for (const n of Object.values(sections)) expect(n).toBeGreaterThanOrEqual(0);
          expect(sections.system).toBeGreaterThan(0);
          expect(sections.instruction).toBeGreaterThan(0);
          expect(sections.conversation > 0).toBe(conversation.length > 0);
          expect(sections.snippets > 0).toBe(res.contextPieces.some((p) => p.kind === "chunk"));
          expect(sections.summaries > 0).toBe(res.contextPieces.some((p) => p.kind !== "chunk"));
        },
      ),
      { numRuns: 40 },
    );
  });
});
