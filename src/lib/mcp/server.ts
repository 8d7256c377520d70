/**
 * The MCP server of one request: Winky's tools over the caller's key. Stateless (a server and transport per
 * HTTP request), so any Worker instance answers any call; each tool checks the key's scope as its REST route does.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import type { z } from "zod";
import { requireScope } from "../auth";
import { toolError, toolResult } from "./results";
import { assembleContextTool } from "./tools/assemble-context";
import { findSymbolTool } from "./tools/find-symbol";
import { indexStatusTool } from "./tools/index-status";
import { proposeChangeTool } from "./tools/propose-change";
import { readChunkTool } from "./tools/read-chunk";
import { readFileTool } from "./tools/read-file";
import { searchCodeTool } from "./tools/search-code";
import type { McpDeps, ToolDef } from "./types";

export const SERVER_INFO = { name: "winky-context", version: "0.1.0" };

const INSTRUCTIONS =
  "Winky Context indexes a project's code. Start with index_status for project ids; assemble_context gives the best context for a task within a budget; " +
  "search_code, find_symbol, read_file and read_chunk look things up; propose_change plans, writes and verifies a change. Cite chunk ids from `---source:` lines.";

// A tool's `run` is a method, so each tool (with its own input type) is a ToolDef over plain objects too.
type AnyTool = ToolDef<z.ZodObject, z.ZodObject>;

export const TOOLS: readonly AnyTool[] = [assembleContextTool, searchCodeTool, readChunkTool, readFileTool, findSymbolTool, indexStatusTool, proposeChangeTool];

function register(server: McpServer, deps: McpDeps, tool: AnyTool): void {
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: tool.input,
      outputSchema: tool.output,
      annotations: { readOnlyHint: tool.readOnly, openWorldHint: false },
    },
    async (args, extra) => {
      try {
        requireScope(deps.key, tool.scope);
        return toolResult(await tool.run(deps, args, extra));
      } catch (e) {
        return toolError(e, deps.requestId, tool.name);
      }
    },
  );
}

export function createMcpServer(deps: McpDeps): McpServer {
  // The SDK's default JSON Schema validator (Ajv) generates code with `new Function`, which workerd refuses.
  const server = new McpServer(SERVER_INFO, { instructions: INSTRUCTIONS, jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  for (const tool of TOOLS) register(server, deps, tool);
  return server;
}
