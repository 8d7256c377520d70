/**
 * A local HTTP server speaking the part of GitHub's REST API the ingester uses:
 * GET /repos/:owner/:repo/contents/:path?ref=  (raw media type) and
 * GET /repos/:owner/:repo/compare/:base...:head?per_page=&page=  (files paged like GitHub's),
 * and control routes tests use:
 * PUT /__files/:owner/:repo/:ref/:path  publishes file contents at a commit;
 * PUT /__compare/:owner/:repo/:base/:head  publishes a comparison's files and status (JSON `{ files, status? }`, status "ahead" by default);
 * PUT /__private/:owner/:repo  makes the repository private: it answers 404 unless the request carries `Bearer <token>` (JSON `{ token }`);
 * PUT /__limit/:owner/:repo  makes the repository's next `count` requests answer `status` with `headers` (JSON);
 * GET /__log  lists every request outside the control routes, in order, as `{ method, url, status }`;
 * POST /__dying-runner/runs and /__silent-runner/runs  play a sandbox runner that dies mid-run or never answers;
 * POST /__garbled-runner/runs  one that streams an event of a shape the protocol does not have.
 * Paths under `fail-500/` answer 500, as a git host having an outage does.
 */
import { createServer, type OutgoingHttpHeaders } from "node:http";

export type HostRequest = { method: string; url: string; status: number };

export async function startGitHost(): Promise<{ url: string; close: () => Promise<void> }> {
  const files = new Map<string, Buffer>();
  const comparisons = new Map<string, { files: unknown[]; status: string }>();
  const privateRepos = new Map<string, string>();
  const limits = new Map<string, { count: number; status: number; headers: OutgoingHttpHeaders }>();
  const log: HostRequest[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (url.pathname.startsWith("/__")) {
        control(req.method ?? "", url, body, res);
        return;
      }
      const entry: HostRequest = { method: req.method ?? "", url: req.url ?? "", status: 0 };
      log.push(entry);
      const answer = (status: number, headers: OutgoingHttpHeaders, content?: string | Buffer): void => {
        entry.status = status;
        res.writeHead(status, headers).end(content);
      };
      const repoKey = /^\/repos\/([^/]+)\/([^/]+)\//.exec(url.pathname);
      const limit = repoKey ? limits.get(`${repoKey[1]}/${repoKey[2]}`.toLowerCase()) : undefined;
      if (limit && limit.count > 0) {
        limit.count--;
        answer(limit.status, { "content-type": "application/json", ...limit.headers }, '{"message":"API rate limit exceeded"}');
        return;
      }
      const owner = repoKey ? `${repoKey[1]}/${repoKey[2]}`.toLowerCase() : "";
      const needs = privateRepos.get(owner);
      if (needs !== undefined && req.headers.authorization !== `Bearer ${needs}`)
        return answer(404, { "content-type": "application/json" }, '{"message":"Not Found"}');
      const get = /^\/repos\/([^/]+)\/([^/]+)\/contents\/(.+)$/.exec(url.pathname);
      if (req.method === "GET" && get) {
        const [, owner, repo, path] = get as unknown as [string, string, string, string];
        if (req.headers.accept !== "application/vnd.github.raw") return answer(415, {});
        if (path.startsWith("fail-500/")) return answer(500, { "content-type": "application/json" }, '{"message":"Server Error"}');
        const key = `${owner}/${repo}@${url.searchParams.get("ref")}:${decodeURIComponent(path)}`.toLowerCase();
        const found = files.get(key);
        if (found === undefined) answer(404, { "content-type": "application/json" }, '{"message":"Not Found"}');
        else answer(200, { "content-type": "application/octet-stream" }, found);
        return;
      }
      const compare = /^\/repos\/([^/]+)\/([^/]+)\/compare\/([0-9a-f]+)\.\.\.([0-9a-f]+)$/.exec(url.pathname);
      if (req.method === "GET" && compare) {
        const [, owner, repo, base, head] = compare as unknown as [string, string, string, string, string];
        const found = comparisons.get(`${owner}/${repo}:${base}...${head}`.toLowerCase());
        if (found === undefined) return answer(404, { "content-type": "application/json" }, '{"message":"Not Found"}');
        const all = found.files;
        const perPage = Math.min(100, Number(url.searchParams.get("per_page") ?? 30));
        const page = Number(url.searchParams.get("page") ?? 1);
        const files = all.slice((page - 1) * perPage, page * perPage);
        return answer(200, { "content-type": "application/json" }, JSON.stringify({ status: found.status, files }));
      }
      answer(404, {});
    });
  });

  function control(method: string, url: URL, body: Buffer, res: import("node:http").ServerResponse): void {
    // Broken sandbox runners for the resilience tests: one dies after its first event, one never answers.
    if (method === "POST" && url.pathname === "/__dying-runner/runs") {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write(`${JSON.stringify({ type: "start", command: "pytest", index: 0 })}\n`);
      setTimeout(() => res.socket?.destroy(), 50);
      return;
    }
    if (method === "POST" && url.pathname === "/__garbled-runner/runs") {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.end(`${JSON.stringify({ type: "start", command: "pytest", index: 0 })}\n${JSON.stringify({ type: "done", results: "all good" })}\n`);
      return;
    }
    if (method === "POST" && url.pathname === "/__silent-runner/runs") {
      res.socket?.setTimeout(0);
      return;
    }
    const put = /^\/__files\/([^/]+)\/([^/]+)\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (method === "PUT" && put) {
      const [, owner, repo, ref, path] = put as unknown as [string, string, string, string, string];
      files.set(`${owner}/${repo}@${ref}:${decodeURIComponent(path)}`.toLowerCase(), body);
      res.writeHead(204).end();
      return;
    }
    const cmp = /^\/__compare\/([^/]+)\/([^/]+)\/([0-9a-f]+)\/([0-9a-f]+)$/.exec(url.pathname);
    if (method === "PUT" && cmp) {
      const [, owner, repo, base, head] = cmp as unknown as [string, string, string, string, string];
      const published = JSON.parse(body.toString()) as { files?: unknown[]; status?: string };
      comparisons.set(`${owner}/${repo}:${base}...${head}`.toLowerCase(), { files: published.files ?? [], status: published.status ?? "ahead" });
      res.writeHead(204).end();
      return;
    }
    const priv = /^\/__private\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (method === "PUT" && priv) {
      privateRepos.set(`${priv[1]}/${priv[2]}`.toLowerCase(), (JSON.parse(body.toString()) as { token: string }).token);
      res.writeHead(204).end();
      return;
    }
    const limit = /^\/__limit\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (method === "PUT" && limit) {
      limits.set(`${limit[1]}/${limit[2]}`.toLowerCase(), JSON.parse(body.toString()));
      res.writeHead(204).end();
      return;
    }
    if (method === "GET" && url.pathname === "/__log") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(log));
      return;
    }
    res.writeHead(404).end();
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
