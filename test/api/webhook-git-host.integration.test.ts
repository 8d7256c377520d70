import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  checkPushPath,
  compareCommits,
  compareReason,
  fetchFileAt,
  type GitHost,
  GitHostError,
  PushEvent,
  pushChanges,
  rateLimitWait,
  repoUrl,
} from "../../src/lib/git-host";

const host: GitHost = { baseUrl: env.GIT_API_BASE_URL };
const sha = (c: string): string => c.repeat(40);
const newRepo = (): string => `octo/unit-${crypto.randomUUID().slice(0, 8)}`;

async function control(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${env.GIT_API_BASE_URL}${path}`, { method: "PUT", body: typeof body === "string" ? body : JSON.stringify(body) });
  expect(res.status).toBe(204);
}

const response = (status: number, headers: Record<string, string>) => ({ status, headers: new Headers(headers) });

describe("rateLimitWait", () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  it("reads retry-after as seconds or as an HTTP date", () => {
    expect(rateLimitWait(response(429, { "retry-after": "5" }), now)).toBe(5);
    expect(rateLimitWait(response(403, { "retry-after": new Date(now + 90_000).toUTCString() }), now)).toBe(90);
  });
  it("reads an exhausted primary limit from x-ratelimit-remaining and x-ratelimit-reset", () => {
    expect(rateLimitWait(response(403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(now / 1000 + 600) }), now)).toBe(600);
    // A reset already past still waits a second rather than retrying at once.
    expect(rateLimitWait(response(403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(now / 1000 - 5) }), now)).toBe(1);
  });
  it("waits a minute on a bare 429, and is no rate limit for a plain 403 or a 5xx", () => {
    expect(rateLimitWait(response(429, {}), now)).toBe(60);
    expect(rateLimitWait(response(403, {}), now)).toBeUndefined();
    expect(rateLimitWait(response(403, { "x-ratelimit-remaining": "12", "x-ratelimit-reset": "1" }), now)).toBeUndefined();
    expect(rateLimitWait(response(503, { "retry-after": "5" }), now)).toBeUndefined();
  });
});

describe("repoUrl", () => {
  it("keeps every segment inside /repos/{repo}/contents/", () => {
    const url = new URL(repoUrl(host, "o/r", "contents", ["a?b", "c#d", "%2e%2e", "e f"], { ref: "main" }));
    expect(url.pathname).toBe("/repos/o/r/contents/a%3Fb/c%23d/%252e%252e/e%20f");
    expect(url.searchParams.get("ref")).toBe("main");
  });
  it("refuses dot segments, empty segments and repositories that are not owner/name", () => {
    for (const segs of [[".."], ["a", "..", "b"], ["."], ["a", "", "b"]]) {
      expect(() => repoUrl(host, "o/r", "contents", segs, {})).toThrow(GitHostError);
    }
    for (const repo of ["../r", "o/..", "o/r/x", "o", "o/r?x", "./."]) expect(() => repoUrl(host, repo, "contents", ["a"], {})).toThrow(GitHostError);
  });
});

describe("checkPushPath", () => {
  it("passes canonical relative paths", () => {
    expect(checkPushPath("src/app.ts")).toEqual({ ok: true, path: "src/app.ts" });
    expect(checkPushPath("docs/café notes.md")).toEqual({ ok: true, path: "docs/café notes.md" });
  });
  it.each([
    ["a/../../etc/passwd", "a/../../etc/passwd"],
    ["/etc/passwd", "/etc/passwd"],
    ["C:/x", "C:/x"],
    ["a\nb.ts", "a\ufffdb.ts"],
    ["nul\u0000.ts", "nul\ufffd.ts"],
    ["del\u007f.ts", "del\ufffd.ts"],
    ["./a.ts", "./a.ts"],
    ["a//b.ts", "a//b.ts"],
  ])("refuses %j as an invalid path, listed as %j", (raw, shown) => {
    expect(checkPushPath(raw)).toMatchObject({ ok: false, refused: { path: shown, reason: "invalid path" } });
  });
  it("refuses a path over 4096 bytes as too long, and lists it cut", () => {
    const long = `${"é".repeat(2048)}.ts`; // 4099 bytes in 2051 characters
    const checked = checkPushPath(long);
    expect(checked).toMatchObject({ ok: false, refused: { reason: "path too long" } });
    if (!checked.ok) expect(checked.refused.path.length).toBeLessThan(600);
    expect(checkPushPath("é".repeat(2048))).toMatchObject({ ok: true });
  });
});

describe("git host client against the local host", () => {
  it("pages through a comparison until a page lists fewer than 100 files", async () => {
    const repo = newRepo();
    const files = Array.from({ length: 250 }, (_, i) => ({ filename: `f${i}.ts`, status: "added" }));
    await control(`/__compare/${repo}/${sha("a")}/${sha("b")}`, { files });
    const got = await compareCommits(host, repo, sha("a"), sha("b"));
    expect(got?.map((f) => f.filename)).toEqual(files.map((f) => f.filename));
    expect(await compareCommits(host, repo, sha("b"), sha("a"))).toBeNull();
    await expect(compareCommits(host, repo, "main", sha("a"))).rejects.toThrow(GitHostError);
  });

  it("turns a rate-limited answer into a retryable error carrying the wait", async () => {
    const repo = newRepo();
    await control(`/__limit/${repo}`, { count: 2, status: 429, headers: { "retry-after": "7" } });
    const limited = await fetchFileAt(host, repo, sha("a"), "x.ts").catch((e: unknown) => e);
    expect(limited).toMatchObject({ name: "GitHostError", status: 429, retryable: true, retryAfterSeconds: 7 });
    const reset = String(Math.ceil(Date.now() / 1000) + 30);
    await control(`/__limit/${repo}`, { count: 1, status: 403, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset } });
    const exhausted = await compareCommits(host, repo, sha("a"), sha("b")).catch((e: unknown) => e);
    expect(exhausted).toMatchObject({ status: 403, retryable: true });
    expect((exhausted as GitHostError).retryAfterSeconds).toBeGreaterThanOrEqual(29);
    await control(`/__limit/${repo}`, { count: 1, status: 403, headers: {} });
    expect(await fetchFileAt(host, repo, sha("a"), "x.ts").catch((e: unknown) => e)).toMatchObject({
      status: 403,
      retryable: false,
      retryAfterSeconds: undefined,
    });
    expect(await fetchFileAt(host, repo, sha("a"), "x.ts")).toBeNull();
  });
});

describe("push changes", () => {
  const base = { ref: "refs/heads/main", before: sha("1"), after: sha("2"), repository: { full_name: "o/r" } };
  it("trusts the payload unless the list is cut or the push was forced, and never for a new branch", () => {
    expect(compareReason(PushEvent.parse({ ...base, commits: [{ id: "c", added: ["a"] }] }))).toBeUndefined();
    expect(compareReason(PushEvent.parse({ ...base, forced: true }))).toBe("a forced push");
    expect(compareReason(PushEvent.parse({ ...base, size: 3, commits: [{ id: "c" }] }))).toContain("1 of 3");
    const many = Array.from({ length: 2048 }, (_, i) => ({ id: `c${i}` }));
    expect(compareReason(PushEvent.parse({ ...base, commits: many }))).toContain("2048");
    expect(compareReason(PushEvent.parse({ ...base, before: sha("0"), forced: true, commits: many }))).toBeUndefined();
  });

  it("after a forced push, also re-reads the files only the dropped commits touched", async () => {
    const repo = newRepo();
    await control(`/__compare/${repo}/${sha("1")}/${sha("2")}`, {
      files: [
        { filename: "kept.ts", status: "modified" },
        { filename: "new.ts", status: "renamed", previous_filename: "old.ts" },
        { filename: "gone.ts", status: "removed" },
      ],
    });
    await control(`/__compare/${repo}/${sha("2")}/${sha("1")}`, {
      files: [
        { filename: "dropped.ts", status: "added" },
        { filename: "kept.ts", status: "modified" },
      ],
    });
    const event = PushEvent.parse({ ...base, forced: true, repository: { full_name: repo }, commits: [{ id: "c", added: ["ignored-list.ts"] }] });
    const changes = await pushChanges(host, event);
    expect(changes).toEqual({ upserts: ["kept.ts", "new.ts", "dropped.ts"], removals: ["old.ts", "gone.ts"], source: "compare" });
  });
});
