/**
 * A local HTTP server that speaks the Anthropic Messages API for tests: POST /v1/messages (JSON, or
 * server-sent events in the documented order when `stream` is true), POST /v1/messages/count_tokens,
 * scripted failures (429/529/5xx with retry-after, or a stream that is dropped or goes silent mid-answer), the model's context window (200k tokens, 1M with the
 * `context-1m` beta header: a longer prompt is a 400 "prompt is too long"), and a record of every request
 * it received (path, body, beta header).
 * Replies: the first reply queued with PUT /__reply?match=<text> whose match text occurs in the request,
 * else an echo of the last user message (so concurrent test files do not take each other's replies).
 * A reply's `{{source}}` becomes the first chunk citation (`chunkId:start-end`) of the request's `---source`
 * lines, and `{{source:<path>}}` the first of that file's, so a test can script an answer that cites what
 * was really in the prompt without knowing the chunk ids in advance.
 * Failures, token-count factors and window sizes can be scoped the same way with `match`, so test files
 * running at once do not consume each other's scripts.
 */
import { createServer } from "node:http";

export async function startMessagesServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const bodies: unknown[] = [];
  // `cut`: the stream starts, then the connection is dropped (`"drop"`) or goes silent (`"stall"`).
  const failures: { status: number; retryAfter: string; match?: string; times?: number; cut?: "drop" | "stall" }[] = [];
  const replies: { match: string; text: string }[] = [];
  // Tokens counted per character (a quarter by default), and the context window, per matching request.
  const factors: { match: string; factor: number }[] = [];
  const windows: { match: string; tokens: number }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname === "/__requests") return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(bodies));
      if (url.pathname === "/__fail" && req.method === "PUT") {
        failures.push(...(JSON.parse(raw) as typeof failures));
        return void res.writeHead(204).end();
      }
      if (url.pathname === "/__count" && req.method === "PUT") {
        factors.push({ match: url.searchParams.get("match") ?? "", factor: Number(url.searchParams.get("factor")) });
        return void res.writeHead(204).end();
      }
      if (url.pathname === "/__window" && req.method === "PUT") {
        windows.push({ match: url.searchParams.get("match") ?? "", tokens: Number(url.searchParams.get("tokens")) });
        return void res.writeHead(204).end();
      }
      if (url.pathname === "/__reply" && req.method === "PUT") {
        replies.push({ match: url.searchParams.get("match") ?? "", text: raw });
        return void res.writeHead(204).end();
      }
      const body = raw ? (JSON.parse(raw) as { model: string; stream?: boolean; messages: { role: string; content: string }[]; system?: string }) : undefined;
      const beta = req.headers["anthropic-beta"] ?? null;
      if (url.pathname.startsWith("/v1/")) bodies.push({ path: url.pathname, body, beta });
      if (!body) return void res.writeHead(400).end();
      const inputText = `${body.system ?? ""}${body.messages.map((m) => m.content).join("")}`;
      const factor = factors.find((f) => inputText.includes(f.match))?.factor ?? 0.25;
      const inputTokens = Math.ceil(inputText.length * factor);
      if (url.pathname === "/v1/messages/count_tokens")
        return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ input_tokens: inputTokens }));
      const error = (status: number, type: string, message: string, headers: Record<string, string> = {}): void =>
        void res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify({ type: "error", error: { type, message } }));
      const failAt = failures.findIndex((f) => inputText.includes(f.match ?? ""));
      const fail = failures[failAt];
      if (fail) {
        if (!fail.times || fail.times <= 1) failures.splice(failAt, 1);
        else fail.times--;
        if (fail.cut) {
          res.writeHead(200, { "content-type": "text/event-stream" });
          const start = { id: "msg_local", type: "message", role: "assistant", model: body.model, content: [], stop_reason: null, stop_sequence: null };
          res.write(
            `event: message_start\ndata: ${JSON.stringify({ type: "message_start", message: { ...start, usage: { input_tokens: inputTokens, output_tokens: 1 } } })}\n\n`,
          );
          res.write(
            `event: content_block_start\ndata: ${JSON.stringify({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } })}\n\n`,
          );
          res.write(
            `event: content_block_delta\ndata: ${JSON.stringify({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "partial " } })}\n\n`,
          );
          if (fail.cut === "drop") setTimeout(() => res.socket?.destroy(), 20);
          return;
        }
        const type = fail.status === 529 ? "overloaded_error" : fail.status === 429 ? "rate_limit_error" : "api_error";
        return error(fail.status, type, type, { "retry-after": fail.retryAfter });
      }
      const window = windows.find((w) => inputText.includes(w.match))?.tokens ?? (String(beta).includes("context-1m") ? 1_000_000 : 200_000);
      if (inputTokens > window) return error(400, "invalid_request_error", `prompt is too long: ${inputTokens} tokens > ${window} maximum`);
      const at = replies.findIndex((r) => inputText.includes(r.match));
      const scripted = at >= 0 ? (replies.splice(at, 1)[0] as { text: string }).text : undefined;
      const text = scripted !== undefined ? citeSources(scripted, inputText) : `echo: ${body.messages.at(-1)?.content ?? ""}`;
      const outputTokens = Math.ceil(text.length / 4);
      const message = {
        id: "msg_local",
        type: "message",
        role: "assistant",
        model: body.model,
        content: [{ type: "text", text }],
        stop_reason: "end_turn",
        stop_sequence: null,
        usage: { input_tokens: inputTokens, output_tokens: outputTokens },
      };
      if (!body.stream) return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(message));
      res.writeHead(200, { "content-type": "text/event-stream" });
      const send = (event: string, data: unknown): void => void res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      send("message_start", {
        type: "message_start",
        message: { ...message, content: [], stop_reason: null, usage: { input_tokens: inputTokens, output_tokens: 1 } },
      });
      send("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
      send("ping", { type: "ping" });
      for (let i = 0; i < text.length; i += 8)
        send("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: text.slice(i, i + 8) } });
      send("content_block_stop", { type: "content_block_stop", index: 0 });
      send("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: outputTokens } });
      send("message_stop", { type: "message_stop" });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Fills a scripted reply's `{{source}}` and `{{source:<path>}}` with citations of chunks the request holds. */
function citeSources(reply: string, request: string): string {
  return reply.replace(/\{\{source(?::([^}]+))?\}\}/g, (placeholder, path: string | undefined) => {
    for (const m of request.matchAll(/^---source: (\S+), (.+):(\d+)-(\d+)$/gm)) {
      if (path === undefined || m[2] === path) return `${m[1]}:${m[3]}-${m[4]}`;
    }
    return placeholder;
  });
}
