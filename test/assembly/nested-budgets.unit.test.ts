import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assembleContext } from "../../src/lib/assembly/assemble";
import type { ChunkBody } from "../../src/lib/assembly/types";
import { body, fakeStore } from "./support";

const WORDS = ["parse", "request", "header", "timeout", "retry", "session", "cookie", "encode", "stream", "close"];

/** A project of files, each of consecutive chunks of lines built from a few words. */
const project = fc
  .array(
    fc.array(fc.array(fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 60 }), { minLength: 1, maxLength: 4 }),
    { minLength: 1, maxLength: 25 },
  )
  .map((files) =>
    files.flatMap((chunks, f) => {
      let line = 1;
      return chunks.map((lines, ordinal): ChunkBody => {
        const b = body(
          `c${f}_${ordinal}`,
          `src/f${f}.ts`,
          line,
          lines.map((ws) => ws.join(" ")),
          ordinal,
        );
        line = b.endLine + 1;
        return b;
      });
    }),
  );

describe("nested budgets", () => {
  it("for a fixed prompt, every chunk in the context at a budget is in the context at every larger budget", async () => {
    await fc.assert(
      fc.asyncProperty(project, fc.subarray(WORDS, { minLength: 1 }), fc.boolean(), async (chunks, terms, withHot) => {
        const ids = chunks.map((c) => c.chunkId);
        const store = fakeStore(chunks, {
          // Lexical hits: the chunks holding a prompt term, most hits first.
          lexical: () =>
            chunks
              .map((c) => ({ chunkId: c.chunkId, score: terms.filter((t) => c.text.includes(t)).length }))
              .filter((h) => h.score > 0)
              .sort((a, b) => b.score - a.score || ids.indexOf(a.chunkId) - ids.indexOf(b.chunkId)),
        });
        const prompt = `Why does ${terms.join(" ")} fail?`;
        const hotPaths = withHot ? [chunks[0]?.path ?? ""] : [];
        let previous: Set<string> | undefined;
        for (const budget of [1_500, 3_000, 6_000, 12_000, 25_000, 60_000]) {
          const res = await assembleContext(store, { prompt, budget, hotPaths, tokenizer: "cl100k_base", conversation: [], includeText: false });
          const got = new Set(res.contextPieces.filter((p) => p.kind === "chunk").map((p) => p.chunkId));
          if (previous) for (const id of previous) expect(got.has(id), `${id} at budget ${budget}`).toBe(true);
          expect(res.tokenTotal).toBeLessThanOrEqual(budget);
          previous = got;
        }
      }),
      { numRuns: 60 },
    );
  });
});
