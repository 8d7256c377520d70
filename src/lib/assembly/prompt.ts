/**
 * The spec's fixed system prompt and prompt layout. The prompt is a sequence of blocks that each
 * start with "---" and end with a newline: tiktoken's pre-tokenizer never joins a newline with a
 * following "-", so the prompt's token count is exactly the sum of its blocks' counts, and the
 * assembler counts a 500k-token prompt by adding cached block counts instead of re-encoding it.
 */

export const SYSTEM_PROMPT =
  "You are Winky A1, a full-stack AI developer. Always include provenance and cite chunkIds for all factual claims. If you are unsure, state uncertainty and list the top-3 chunks that informed your answer.";

export const RESPONSE_FORMAT = "Return JSON with files[] or diff[], and include sources: [chunkId,...] for each factual claim.";

export type PieceKind = "chunk" | "file-summary" | "dir-summary" | "project-summary" | "conversation";

export type RenderPiece = { id: string; kind: PieceKind; path: string; startLine: number; endLine: number; text: string };

export type ConversationMessage = { role: string; content: string };

const withNewline = (s: string): string => (s.endsWith("\n") ? s : `${s}\n`);

/** The `---source:` line that opens every snippet and summary. */
export function sourceLine(p: Omit<RenderPiece, "text">): string {
  if (p.kind === "chunk") return `---source: ${p.id}, ${p.path}:${p.startLine}-${p.endLine}\n`;
  return `---source: ${p.id}, ${p.path || "."} (${p.kind})\n`;
}

/** One snippet block: its source line, then its text, ending in a newline. */
export function renderPiece(p: RenderPiece): string {
  return `${sourceLine(p)}${withNewline(p.text)}`;
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
  return messages.length ? `---USER_CONVERSATION---\n${messages.map((m) => withNewline(`[${m.role}] ${m.content}`)).join("")}` : "";
}

export function instructionBlock(instruction: string): string {
  return `---USER_INSTRUCTION---\n${withNewline(instruction)}`;
}

export function responseFormatBlock(): string {
  return `---RESPONSE_FORMAT---\n${RESPONSE_FORMAT}\n`;
}

/**
 * The whole prompt in the spec's section order: system, project summary, relevant snippets, chunk
 * summaries, user conversation, instruction, response format. Empty sections are left out.
 */
export function renderPrompt(parts: {
  projectSummary: RenderPiece | undefined;
  snippets: RenderPiece[];
  summaries: RenderPiece[];
  conversation: ConversationMessage[];
  instruction: string;
}): string {
  return [
    systemBlock(),
    parts.projectSummary ? SECTION.projectSummary + renderPiece(parts.projectSummary) : "",
    parts.snippets.length ? SECTION.snippets + parts.snippets.map(renderPiece).join("") : "",
    parts.summaries.length ? SECTION.summaries + parts.summaries.map(renderPiece).join("") : "",
    conversationBlock(parts.conversation),
    instructionBlock(parts.instruction),
    responseFormatBlock(),
  ].join("");
}
