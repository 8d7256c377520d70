/**
 * POST /mcp: the Model Context Protocol over Streamable HTTP (docs/mcp.md), behind the same API keys as
 * /api. Stateless: a server and transport per request, so no session pins a client to an instance. GET
 * answers 405: a stateless server has nothing to push on a standalone stream, and the transport lets a
 * server say so.
 */
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { Hono } from "hono";
import { createMcpServer } from "../../../src/lib/mcp";
import { openDb } from "../../../src/lib/storage";
import { guardQuota, meter } from "../metering";
import type { AppEnv } from "../types";

export const mcpRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const server = createMcpServer({
      env: c.env,
      db: openDb(c.env.DB),
      key: c.var.key,
      requestId: c.var.requestId,
      guardQuota: (kind, projectId) => guardQuota(c, kind, projectId),
      meter: (use) => meter(c, use),
    });
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    return transport.handleRequest(c.req.raw);
  })
  .get("/", (c) => {
    c.header("allow", "POST");
    return c.json(
      { jsonrpc: "2.0", error: { code: -32000, message: "this server is stateless and opens no stream: POST JSON-RPC messages to /mcp" }, id: null },
      405,
    );
  });
