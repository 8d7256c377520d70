/**
 * A local HTTP server speaking the part of GitHub's REST API the ingester uses:
 * GET /repos/:owner/:repo/contents/:path?ref=  (raw media type), and a control route
 * PUT /__files/:owner/:repo/:ref/:path that tests use to publish file contents at a commit.
 * Paths under `fail-500/` answer 500, as a git host having an outage does.
 */
import { createServer } from "node:http";

export async function startGitHost(): Promise<{ url: string; close: () => Promise<void> }> {
  const files = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const put = /^\/__files\/([^/]+)\/([^/]+)\/([^/]+)\/(.+)$/.exec(url.pathname);
      if (req.method === "PUT" && put) {
        const [, owner, repo, ref, path] = put as unknown as [string, string, string, string, string];
        files.set(`${owner}/${repo}@${ref}:${decodeURIComponent(path)}`.toLowerCase(), Buffer.concat(chunks));
        res.writeHead(204).end();
        return;
      }
      const get = /^\/repos\/([^/]+)\/([^/]+)\/contents\/(.+)$/.exec(url.pathname);
      if (req.method === "GET" && get) {
        const [, owner, repo, path] = get as unknown as [string, string, string, string];
        if (req.headers.accept !== "application/vnd.github.raw") {
          res.writeHead(415).end();
          return;
        }
        if (path.startsWith("fail-500/")) {
          res.writeHead(500, { "content-type": "application/json" }).end('{"message":"Server Error"}');
          return;
        }
        const key = `${owner}/${repo}@${url.searchParams.get("ref")}:${decodeURIComponent(path)}`.toLowerCase();
        const body = files.get(key);
        if (body === undefined) res.writeHead(404, { "content-type": "application/json" }).end('{"message":"Not Found"}');
        else res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
