/**
 * How much text one tool result carries, and the helpers that cut and number it. Clients cap a tool
 * result (Claude Code at 25,000 tokens unless MAX_MCP_OUTPUT_TOKENS is raised), so every result stays
 * under PAGE_TOKENS of text and says how to ask for the rest.
 */

// The default and page size of assembled context: under Claude Code's 25,000-token cap with room for the piece list.
export const PAGE_TOKENS = 20_000;
// Characters of file or chunk text per result: code runs 3-4 characters per token, so about 15-20k tokens.
export const MAX_READ_CHARS = 60_000;
// Lines per read_file result when the caller names no end line.
export const MAX_READ_LINES = 2_000;

/** Lines numbered from `first`, as `cat -n` prints them (right-aligned number, a tab, the line). */
export function numberLines(lines: string[], first: number): string {
  const width = String(first + lines.length - 1).length;
  return lines.map((l, i) => `${String(first + i).padStart(width)}\t${l}`).join("\n");
}

/** The lines of `text` (without a final empty line after a trailing newline). */
export function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** As many whole lines as fit in `maxChars` (at least one). */
export function takeLines(lines: string[], maxChars: number): string[] {
  let chars = 0;
  let n = 0;
  while (n < lines.length && (n === 0 || chars + (lines[n] as string).length <= maxChars)) chars += (lines[n++] as string).length + 1;
  return lines.slice(0, n);
}
