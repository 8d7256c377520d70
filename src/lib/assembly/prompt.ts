/** The spec's fixed system prompt and prompt layout, rendered from assembled pieces. */

export const SYSTEM_PROMPT =
  "You are Winky A1, a full-stack AI developer. Always include provenance and cite chunkIds for all factual claims. If you are unsure, state uncertainty and list the top-3 chunks that informed your answer.";

export const RESPONSE_FORMAT = "Return JSON with files[] or diff[], and include sources: [chunkId,...] for each factual claim.";

export type PieceKind = "chunk" | "file-summary" | "dir-summary" | "project-summary" | "conversation";

export type RenderPiece = { id: string; kind: PieceKind; path: string; startLine: number; endLine: number; text: string };

export type ConversationMessage = { role: string; content: string };

/** The `---source:` line that follows every snippet. */
export function sourceLine(p: RenderPiece): string {
  if (p.kind === "chunk") return `---source: ${p.id}, ${p.path}:${p.startLine}-${p.endLine}\n`;
  return `---source: ${p.id}, ${p.path || "."} (${p.kind})\n`;
}

/** A snippet as it appears in the prompt: its text (ending in a newline) and its source line. */
export function renderPiece(p: RenderPiece): string {
  return `${p.text}${p.text.endsWith("\n") ? "" : "\n"}${sourceLine(p)}`;
}

export function renderConversation(messages: ConversationMessage[]): string {
  return messages.map((m) => `[${m.role}] ${m.content}${m.content.endsWith("\n") ? "" : "\n"}`).join("");
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
  const sections: string[] = [`---SYSTEM---\n${SYSTEM_PROMPT}\n`];
  if (parts.projectSummary) sections.push(`---PROJECT_SUMMARY---\n${renderPiece(parts.projectSummary)}`);
  if (parts.snippets.length) sections.push(`---RELEVANT_SNIPPETS---\n${parts.snippets.map(renderPiece).join("")}`);
  if (parts.summaries.length) sections.push(`---CHUNK_SUMMARIES---\n${parts.summaries.map(renderPiece).join("")}`);
  if (parts.conversation.length) sections.push(`---USER_CONVERSATION---\n${renderConversation(parts.conversation)}`);
  sections.push(`---USER_INSTRUCTION---\n${parts.instruction}${parts.instruction.endsWith("\n") ? "" : "\n"}`);
  sections.push(`---RESPONSE_FORMAT---\n${RESPONSE_FORMAT}\n`);
  return sections.join("\n");
}
