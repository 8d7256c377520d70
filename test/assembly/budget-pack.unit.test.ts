import { describe, expect, it } from "vitest";
import { safetyMargin, TokenBudget } from "../../src/lib/assembly/budget";
import { isWholeFile, pieceCapFor, SnippetList } from "../../src/lib/assembly/pack";
import { asPiece } from "../../src/lib/assembly/pieces";
import { AppError } from "../../src/lib/errors";
import { body } from "./support";

const request = { prompt: "p", budget: 16_000, hotPaths: [], tokenizer: "cl100k_base" as const, conversation: [], includeText: true };

describe("the token budget", () => {
  it("reserves a margin that scales down with small budgets", () => {
    expect(safetyMargin(500_000)).toBe(2000);
    expect(safetyMargin(16_000)).toBe(64);
  });

  it("starts with the fixed blocks taken and refuses a prompt that alone exceeds it", () => {
    const b = TokenBudget.forRequest(request);
    expect(b.limit).toBe(16_000 - 64);
    expect(b.used).toBeGreaterThan(0);
    expect(b.fits(b.limit - b.used)).toBe(true);
    expect(b.fits(b.limit - b.used + 1)).toBe(false);
    let error: unknown;
    try {
      TokenBudget.forRequest({ ...request, budget: 100, prompt: "word ".repeat(200) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 400, code: "prompt_too_long" });
  });
});

describe("pack", () => {
  it("caps a piece at a tenth of the budget within 1,200-8,000 tokens, and takes small files whole", () => {
    expect(pieceCapFor(4000)).toBe(1200);
    expect(pieceCapFor(50_000)).toBe(5000);
    expect(pieceCapFor(500_000)).toBe(8000);
    expect(isWholeFile(1800, 1200)).toBe(true);
    expect(isWholeFile(1801, 1200)).toBe(false);
    expect(isWholeFile(3001, 8000)).toBe(false);
  });

  it("charges the section header with the first snippet only, keeps what does not fit as leftovers, and adds a piece once", () => {
    const budget = new TokenBudget(1000, "cl100k_base");
    budget.used = 1000 - 4 - 60; // 60 tokens free under the limit
    const list = new SnippetList(budget, 5);
    const a = asPiece(body("a", "f.ts", 1, ["x".repeat(19)])); // block 30
    const big = asPiece(body("b", "f.ts", 2, ["y".repeat(39)])); // block 50
    expect(list.add(a, 1, ["lexical match"])).toBe(true);
    expect(budget.used).toBe(1000 - 4 - 60 + 35);
    expect(list.add(a, 1, ["lexical match"])).toBe(true);
    expect(list.items).toHaveLength(1);
    expect(list.add(big, 0.5, ["vector match"])).toBe(false);
    expect(list.leftovers.map((l) => l.piece.piece.id)).toEqual(["b"]);
    expect(list.included).toEqual(new Set(["a:1", "a"]));
  });
});
