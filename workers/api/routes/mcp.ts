/**
 * POST /mcp: the Model Context Protocol over Streamable HTTP (docs/mcp.md), behind the same API keys as
 * /api. Stateless: a server and transport per request, so no session pins a client to an instance. GET
 * answers 405: a stateless server has nothing to push on a standalone stream, and the transport lets a
 * server say so.
 */
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { Hono } from "hono";
import { z } from "zod";
import { createMcpServer } from "../../../src/lib/mcp";
import { openDb } from "../../../src/lib/storage";
import { guardQuota, measure, meter, passOnWarnings } from "../metering";
import { describe } from "../openapi";
import type { AppEnv } from "../types";

const JsonRpcError = z.object({
  jsonrpc: z.literal("2.0"),
  error: z.object({ code: z.number(), message: z.string(), data: z.unknown().optional() }),
  id: z.union([z.string(), z.number(), z.null()]),
});

export const mcpRoutes = new Hono<AppEnv>()
  .post(
    "/",
    describe({
      summary: "The Model Context Protocol over Streamable HTTP: JSON-RPC messages in, a JSON-RPC answer or an SSE stream out (docs/mcp.md)",
      tags: ["mcp"],
      caller: "read",
      responses: {
        200: { media: ["text/event-stream", "application/json"], description: "the JSON-RPC answer, streamed with progress notifications as SSE" },
        202: null,
      },
      errors: JsonRpcError,
    }),
    async (c) => {
      const server = createMcpServer({
        env: c.env,
        db: openDb(c.env.DB),
        key: c.var.key,
        requestId: c.var.requestId,
        guardQuota: (kind, projectId) => guardQuota(c, kind, projectId),
        passOnWarnings: (warnings) => passOnWarnings(c, warnings),
        meter: (use) => meter(c, use),
        measure: (events) => measure(c, events),
      });
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      await server.connect(transport);
      return transport.handleRequest(c.req.raw);
    },
  )
  .get(
    "/",
    describe({ summary: "No standalone stream: a stateless server answers 405", tags: ["mcp"], caller: "read", responses: { 405: JsonRpcError } }),
    (c) => {
      c.header("allow", "POST");
      return c.json(
        { jsonrpc: "2.0", error: { code: -32000, message: "this server is stateless and opens no stream: POST JSON-RPC messages to /mcp" }, id: null },
        405,
      );
    },
  );
