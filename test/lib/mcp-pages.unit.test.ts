import { describe, expect, it } from "vitest";
import { pageBlocks } from "../../src/lib/mcp/pages";

// One token per character keeps the arithmetic visible.
const count = (s: string) => s.length;

describe("pageBlocks: assembled context in pages of whole blocks", () => {
  it("keeps blocks whole and in order, each page within the limit, with the keys of its blocks", () => {
    const blocks = [{ text: "---H---\n" }, { key: "a", text: "aaaaaaaaaa\n" }, { key: "b", text: "bbbbbbbbbb\n" }, { key: "c", text: "cc\n" }];
    const pages = pageBlocks(blocks, 20, count);
    expect(pages).toEqual([
      { text: "---H---\naaaaaaaaaa\n", keys: ["a"] },
      { text: "bbbbbbbbbb\ncc\n", keys: ["b", "c"] },
    ]);
    expect(pages.map((p) => p.text).join("")).toBe(blocks.map((b) => b.text).join(""));
  });

  it("cuts a block larger than a page between its lines", () => {
    const big = { key: "big", text: "0123456789\n0123456789\n0123456789\n" };
    const pages = pageBlocks([{ key: "s", text: "s\n" }, big], 25, count);
    expect(pages).toEqual([
      { text: "s\n", keys: ["s"] },
      { text: "0123456789\n0123456789\n", keys: ["big"] },
      { text: "0123456789\n", keys: ["big"] },
    ]);
  });

  it("answers no page for no blocks", () => {
    expect(pageBlocks([], 10, count)).toEqual([]);
  });
});
