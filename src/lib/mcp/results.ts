/**
 * Tool answers as MCP results. An error is a tool error (`isError`) whose text is the API's one error
 * envelope, `{ error: { code, message, requestId } }`, so a client reads the same codes as over REST; it
 * carries no structured content (a client checks structured content against the tool's output schema).
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { envelopeOf } from "../errors";
import type { ToolAnswer } from "./types";

export function toolResult<O extends Record<string, unknown>>(answer: ToolAnswer<O>): CallToolResult {
  return { content: [{ type: "text", text: answer.text }], structuredContent: answer.structured };
}

/** An AppError as it is; anything else logged once with the request id and answered as `internal`. */
export function toolError(err: unknown, requestId: string, tool: string): CallToolResult {
  const envelope = envelopeOf(err, requestId);
  if (envelope.error.code === "internal") {
    console.error(JSON.stringify({ requestId, tool, error: String(err), stack: err instanceof Error ? err.stack : undefined }));
  }
  return { isError: true, content: [{ type: "text", text: JSON.stringify(envelope) }] };
}
