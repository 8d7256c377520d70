/**
 * The install phase's only way out: an HTTP proxy in the runner process, on a Unix socket bound into the
 * sandbox, that opens CONNECT tunnels and forwards plain-HTTP requests only to the configured registries'
 * hosts and answers 403 to everything else, recording what it refused.
 */
import { chmod } from "node:fs/promises";
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { isAllowedHost, type Registries } from "./registries";

export type EgressProxy = {
  /** `host:port` of every request refused, in order, each once. */
  refused: () => string[];
  close: () => Promise<void>;
};

// A registry answers in seconds; a tunnel idle this long is a stuck download or a held connection.
const IDLE_MS = 60_000;

/** Listens on `socketPath` (mode 0666: the run's uid connects through the forwarder) until closed. */
export async function startEgressProxy(socketPath: string, registries: Registries): Promise<EgressProxy> {
  const refused = new Set<string>();
  const sockets = new Set<Socket>();
  const allowed = (host: string, port: number): boolean => {
    if (isAllowedHost(registries, host, port)) return true;
    refused.add(`${host}:${port}`);
    return false;
  };

  const server = createServer((req, res) => forward(req, res, allowed));
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    const target = parseAuthority(req.url ?? "");
    if (!target || !allowed(target.host, target.port)) {
      client.end("HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nnot an allowed registry\n");
      return;
    }
    const upstream = connect(target.port, target.host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.setTimeout(IDLE_MS, () => upstream.destroy());
    upstream.on("error", () => {
      if (!client.writableEnded && upstream.connecting) client.end("HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n");
      client.destroy();
    });
    client.on("close", () => upstream.destroy());
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, resolve);
  });
  await chmod(socketPath, 0o666);
  return {
    refused: () => [...refused],
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A plain-HTTP proxy request (`GET http://host:port/path`): forwarded when the host is allowed. */
function forward(req: IncomingMessage, res: ServerResponse, allowed: (host: string, port: number) => boolean): void {
  let url: URL;
  try {
    url = new URL(req.url ?? "");
  } catch {
    res.writeHead(400, { "content-type": "text/plain" }).end("a proxy request needs an absolute http:// URL\n");
    return;
  }
  const port = Number(url.port || 80);
  if (url.protocol !== "http:" || !allowed(url.hostname, port)) {
    res.writeHead(403, { "content-type": "text/plain" }).end("not an allowed registry\n");
    return;
  }
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !k.startsWith("proxy-")));
  const upstream = request({ host: url.hostname, port, path: `${url.pathname}${url.search}`, method: req.method, headers, timeout: IDLE_MS }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  upstream.on("timeout", () => upstream.destroy());
  upstream.on("error", () => {
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" }).end("the registry could not be reached\n");
    else res.destroy();
  });
  req.pipe(upstream);
}

/** `host:port` of a CONNECT request (IPv6 in brackets), or null. */
export function parseAuthority(authority: string): { host: string; port: number } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/]+):(\d{1,5})$/.exec(authority);
  if (!m?.[1] || !m[2]) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65_535) return null;
  return { host: m[1].replace(/^\[|\]$/g, ""), port };
}
