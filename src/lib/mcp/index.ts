/** The Model Context Protocol server: Winky's tools for coding agents (docs/mcp.md). */
export { createMcpServer, SERVER_INFO, TOOLS } from "./server";
export type { McpDeps, ToolAnswer, ToolDef, ToolExtra } from "./types";
