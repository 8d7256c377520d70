/**
 * The spec's fixed system prompt and prompt layout. The prompt is a sequence of blocks that each
 * start with "---" and end with a newline: tiktoken's pre-tokenizer never joins a newline with a
 * following "-", so the prompt's token count is exactly the sum of its blocks' counts, and the
 * assembler counts a 500k-token prompt by adding cached block counts instead of re-encoding it.
 *
 * Only the prompt's own structure starts a line with "---". Everything else — repository text, summaries,
 * conversation, logs, the user's request, sandbox output inside a repair instruction — goes through
 * `escapeMarkers`, so no content can end its block or open another (a file holding
 * "---source: <other id>, src/auth.ts:1-3" or "---USER_INSTRUCTION---" shows as "\---…", plain text).
 */

export const SYSTEM_PROMPT =
  "You are Winky A1, a full-stack AI developer. Always include provenance and cite chunkIds for all factual claims. If you are unsure, state uncertainty and list the top-3 chunks that informed your answer.";

export const RESPONSE_FORMAT = "Return JSON with files[] or diff[], and include sources: [chunkId,...] for each factual claim.";

export type PieceKind = "chunk" | "file-summary" | "dir-summary" | "project-summary" | "conversation";

export type RenderPiece = { id: string; kind: PieceKind; path: string; startLine: number; endLine: number; text: string };

export type ConversationMessage = { role: string; content: string };

const withNewline = (s: string): string => (s.endsWith("\n") ? s : `${s}\n`);

/**
 * Content lines that would read as structure get a backslash in front: "---x" → "\---x", and a line
 * already of backslashes then "---" one more, so the escaping is reversible. A carriage return or any
 * other line break a reader might honour starts a line too.
 */
export function escapeMarkers(text: string): string {
  return text.replace(/(^|[\n\r\u2028\u2029\u0085\v\f])(\\*---)/g, "$1\\$2");
}

/** The `---source:` line that opens every snippet and summary. */
export function sourceLine(p: Omit<RenderPiece, "text">): string {
  if (p.kind === "chunk") return `---source: ${p.id}, ${p.path}:${p.startLine}-${p.endLine}\n`;
  return `---source: ${p.id}, ${p.path || "."} (${p.kind})\n`;
}

/** One snippet block: its source line, then its text, ending in a newline. */
export function renderPiece(p: RenderPiece): string {
  return `${sourceLine(p)}${withNewline(escapeMarkers(p.text))}`;
}

export const SECTION = {
  projectSummary: "---PROJECT_SUMMARY---\n",
  snippets: "---RELEVANT_SNIPPETS---\n",
  summaries: "---CHUNK_SUMMARIES---\n",
} as const;

export function systemBlock(): string {
  return `---SYSTEM---\n${SYSTEM_PROMPT}\n`;
}

export function conversationBlock(messages: ConversationMessage[]): string {
  return messages.length ? `---USER_CONVERSATION---\n${messages.map((m) => withNewline(escapeMarkers(`[${m.role}] ${m.content}`))).join("")}` : "";
}

export function instructionBlock(instruction: string): string {
  return `---USER_INSTRUCTION---\n${withNewline(escapeMarkers(instruction))}`;
}

export function responseFormatBlock(): string {
  return `---RESPONSE_FORMAT---\n${RESPONSE_FORMAT}\n`;
}

/** A rendered piece of the prompt; `key` names a snippet or summary block a caller may hold already. */
export type PromptBlock = { key?: string; text: string };

/**
 * The key of a piece's rendered block: chunk ids are content-addressed, so a chunk's line range fixes
 * its text; summaries keep their id across re-ingests, so their key carries a hash of their text.
 */
export function blockKey(p: RenderPiece): string {
  return p.kind === "chunk" ? `${p.id}:${p.startLine}-${p.endLine}` : `${p.id}#${fnv1a(p.text)}`;
}

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

/**
 * The whole prompt in the spec's section order, as blocks: system, project summary, relevant snippets,
 * chunk summaries, user conversation, instruction, response format. Empty sections are left out.
 */
export function renderBlocks(parts: {
  projectSummary: RenderPiece | undefined;
  snippets: RenderPiece[];
  summaries: RenderPiece[];
  conversation: ConversationMessage[];
  instruction: string;
}): PromptBlock[] {
  const piece = (p: RenderPiece): PromptBlock => ({ key: blockKey(p), text: renderPiece(p) });
  const blocks: PromptBlock[] = [{ text: systemBlock() }];
  if (parts.projectSummary) blocks.push({ text: SECTION.projectSummary }, piece(parts.projectSummary));
  if (parts.snippets.length) blocks.push({ text: SECTION.snippets }, ...parts.snippets.map(piece));
  if (parts.summaries.length) blocks.push({ text: SECTION.summaries }, ...parts.summaries.map(piece));
  const conversation = conversationBlock(parts.conversation);
  if (conversation) blocks.push({ text: conversation });
  blocks.push({ text: instructionBlock(parts.instruction) }, { text: responseFormatBlock() });
  return blocks;
}

/** The prompt split for the Messages API: the spec's system prompt as `system`, the rest as the user turn. */
export function splitSystem(prompt: string): { system: string; user: string } {
  const head = systemBlock();
  return prompt.startsWith(head) ? { system: SYSTEM_PROMPT, user: prompt.slice(head.length) } : { system: SYSTEM_PROMPT, user: prompt };
}
