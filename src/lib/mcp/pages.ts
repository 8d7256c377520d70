/**
 * Assembled context cut into pages for clients that cap a tool result. The prompt is a list of blocks
 * whose token counts add up exactly (src/lib/assembly/prompt.ts), so pages are runs of whole blocks;
 * a block larger than a page is cut at line boundaries.
 */
import type { PromptBlock } from "../assembly/prompt";

export type Page = { text: string; keys: string[] };

/** `blocks` in order as pages of at most `pageTokens` tokens (a single line over a page is a page of its own). */
export function pageBlocks(blocks: PromptBlock[], pageTokens: number, count: (text: string) => number): Page[] {
  const pages: Page[] = [];
  let text = "";
  let tokens = 0;
  let keys: string[] = [];
  const flush = () => {
    if (text) pages.push({ text, keys });
    text = "";
    tokens = 0;
    keys = [];
  };
  for (const b of blocks) {
    const n = count(b.text);
    if (n > pageTokens) {
      flush();
      for (const part of cutBlock(b.text, pageTokens, count)) pages.push({ text: part, keys: b.key ? [b.key] : [] });
      continue;
    }
    if (tokens + n > pageTokens) flush();
    text += b.text;
    tokens += n;
    if (b.key) keys.push(b.key);
  }
  flush();
  return pages;
}

function cutBlock(text: string, pageTokens: number, count: (text: string) => number): string[] {
  const parts: string[] = [];
  let part = "";
  let tokens = 0;
  for (const line of text.split(/(?<=\n)/)) {
    const n = count(line);
    if (part && tokens + n > pageTokens) {
      parts.push(part);
      part = "";
      tokens = 0;
    }
    part += line;
    tokens += n;
  }
  if (part) parts.push(part);
  return parts;
}
