/**
 * `npm run eval:data`: case files fetched over HTTP and checked against their pinned digests, repositories
 * cloned bare with their history, what is already sound kept, and a bad download leaving nothing behind.
 * The hosts are local (an HTTP server laid out like raw.githubusercontent.com, and file:// for git).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCases } from "../../scripts/eval/cases";
import { type EvalSources, evalInputs, fetchEvalData, type Hosts } from "../../scripts/eval/fetch-data";

const root = mkdtempSync(join(tmpdir(), "winky-eval-data-"));
const served = new Map<string, Buffer>();
const requests: string[] = [];
let server: Server;
let hosts: Hosts;

const CASE = {
  org: "acme",
  repo: "widget",
  number: 7,
  base: { sha: "" },
  resolved_issues: [{ title: "crash on empty input", body: 'Traceback (most recent call last):\n  File "widget/core.py", line 2' }],
  fix_patch: "diff --git a/widget/core.py b/widget/core.py\n",
};
const sha = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");
const git = (cwd: string, ...args: string[]): string =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" },
  }).trim();

let commit: string;
let sources: EvalSources;

beforeAll(async () => {
  // A repository as a git host holds it: acme/widget.git, two commits.
  const work = join(root, "work");
  mkdirSync(join(work, "widget"), { recursive: true });
  git(work, "init", "-q", "-b", "main");
  writeFileSync(join(work, "widget", "core.py"), "def run(x):\n    return x[0]\n");
  git(work, "add", ".");
  git(work, "commit", "-qm", "first");
  commit = git(work, "rev-parse", "HEAD");
  writeFileSync(join(work, "widget", "core.py"), "def run(x):\n    return x[0] if x else None\n");
  git(work, "commit", "-qam", "fix");
  mkdirSync(join(root, "host", "acme"), { recursive: true });
  git(root, "clone", "-q", "--bare", work, join(root, "host", "acme", "widget.git"));

  const body = Buffer.from(`${JSON.stringify({ ...CASE, base: { sha: commit } })}\n`);
  served.set("/acme/cases/0123abcd/data/acme__widget_dataset.jsonl", body);
  served.set("/acme/cases/0123abcd/data/tampered.jsonl", Buffer.from("not what was pinned\n"));
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const b = served.get(req.url ?? "");
    res.writeHead(b ? 200 : 404).end(b ?? "not found");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  hosts = { raw: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, git: `file://${join(root, "host")}` };
  sources = {
    files: [{ name: "acme__widget_dataset.jsonl", repo: "acme/cases", commit: "0123abcd", path: "data/acme__widget_dataset.jsonl", sha256: sha(body) }],
    repos: ["acme/widget"],
  };
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe("npm run eval:data", () => {
  it("fetches the case files and clones the repositories, which npm run eval --from then reads", async () => {
    const dir = join(root, "eval-1");
    const report = await fetchEvalData(dir, sources, hosts);
    expect(report.failed).toEqual([]);
    expect(report.fetched.sort()).toEqual(["acme+widget", "acme__widget_dataset.jsonl"]);

    const inputs = evalInputs(dir);
    expect(inputs.data).toEqual([join(dir, "data", "acme__widget_dataset.jsonl")]);
    const { cases } = readCases(inputs.data[0] as string);
    expect(cases.map((c) => [c.id, c.repo, c.commit])).toEqual([["acme__widget-7", "acme/widget", commit]]);
    // The clone is bare and has the case's base commit, not only the tip.
    const clone = join(inputs.repos, "acme+widget");
    expect(git(clone, "rev-parse", "--is-bare-repository")).toBe("true");
    expect(git(clone, "cat-file", "-t", commit)).toBe("commit");
    expect(git(clone, "show", `${commit}:widget/core.py`)).toContain("return x[0]");
  });

  it("keeps what is already there and sound, without asking the hosts again", async () => {
    const dir = join(root, "eval-2");
    await fetchEvalData(dir, sources, hosts);
    const before = requests.length;
    const again = await fetchEvalData(dir, sources, hosts);
    expect(again.fetched).toEqual([]);
    expect(again.kept.sort()).toEqual(["acme+widget", "acme__widget_dataset.jsonl"]);
    expect(requests.length).toBe(before);
  });

  it("fetches a file again when what is on disk is not the pinned content", async () => {
    const dir = join(root, "eval-3");
    mkdirSync(join(dir, "data"), { recursive: true });
    writeFileSync(join(dir, "data", "acme__widget_dataset.jsonl"), "edited by hand\n");
    const report = await fetchEvalData(dir, { files: sources.files, repos: [] }, hosts);
    expect(report.fetched).toEqual(["acme__widget_dataset.jsonl"]);
    expect(sha(readFileSync(join(dir, "data", "acme__widget_dataset.jsonl")))).toBe(sources.files[0]?.sha256);
  });

  it("refuses a download whose digest is not the pinned one, and a repository the host lacks, writing neither", async () => {
    const dir = join(root, "eval-4");
    const pinned = sources.files[0]?.sha256 as string;
    const report = await fetchEvalData(
      dir,
      {
        files: [
          { name: "tampered.jsonl", repo: "acme/cases", commit: "0123abcd", path: "data/tampered.jsonl", sha256: pinned },
          { name: "gone.jsonl", repo: "acme/cases", commit: "0123abcd", path: "data/gone.jsonl", sha256: pinned },
        ],
        repos: ["acme/missing", "acme/widget"],
      },
      hosts,
    );
    expect(report.failed.map((f) => f.what)).toEqual(["tampered.jsonl", "gone.jsonl", "acme/missing"]);
    expect(report.failed[0]?.why).toContain(`not the pinned ${pinned}`);
    expect(report.failed[1]?.why).toContain("HTTP 404");
    // One failure does not stop the rest, and nothing half-written is left.
    expect(report.fetched).toEqual(["acme+widget"]);
    expect(readdirSync(join(dir, "data"))).toEqual([]);
    expect(readdirSync(join(dir, "repos"))).toEqual(["acme+widget"]);
    expect(existsSync(join(dir, "repos", "acme+missing"))).toBe(false);
  });

  it("reads the same cases and clones the same repositories from local bare mirrors, checked against the same digests", async () => {
    // Mirrors as a fetch of GitHub snapshots lays them out (owner+name/repo), or flat (owner+name).
    const mirrors = join(root, "mirrors");
    const cases = join(root, "cases-work");
    mkdirSync(join(cases, "data"), { recursive: true });
    git(cases, "init", "-q", "-b", "main");
    writeFileSync(join(cases, "data", "acme__widget_dataset.jsonl"), served.get("/acme/cases/0123abcd/data/acme__widget_dataset.jsonl") as Buffer);
    writeFileSync(join(cases, "data", "tampered.jsonl"), "not what was pinned\n");
    git(cases, "add", ".");
    git(cases, "commit", "-qm", "cases");
    const casesCommit = git(cases, "rev-parse", "HEAD");
    git(root, "clone", "-q", "--bare", cases, join(mirrors, "acme+cases", "repo"));
    git(root, "clone", "-q", "--bare", join(root, "host", "acme", "widget.git"), join(mirrors, "acme+widget"));
    const pinned = sources.files[0]?.sha256 as string;
    const file = (name: string, path = `data/${name}`) => ({ name, repo: "acme/cases", commit: casesCommit, path, sha256: pinned });

    const dir = join(root, "eval-5");
    const before = requests.length;
    const report = await fetchEvalData(
      dir,
      { files: [file("acme__widget_dataset.jsonl"), file("tampered.jsonl"), file("gone.jsonl")], repos: ["acme/widget", "acme/missing"] },
      { mirror: mirrors },
    );
    expect(requests.length).toBe(before);
    expect(report.fetched.sort()).toEqual(["acme+widget", "acme__widget_dataset.jsonl"]);
    expect(report.failed.map((f) => f.what)).toEqual(["tampered.jsonl", "gone.jsonl", "acme/missing"]);
    expect(report.failed[0]?.why).toContain(`not the pinned ${pinned}`);
    expect(report.failed[1]?.why).toContain(`data/gone.jsonl is not at ${casesCommit}`);
    expect(report.failed[2]?.why).toBe("no bare mirror of acme/missing");
    expect(readdirSync(join(dir, "data"))).toEqual(["acme__widget_dataset.jsonl"]);
    expect(readdirSync(join(dir, "repos"))).toEqual(["acme+widget"]);

    const inputs = evalInputs(dir);
    const { cases: read } = readCases(inputs.data[0] as string);
    expect(read.map((c) => [c.id, c.commit])).toEqual([["acme__widget-7", commit]]);
    expect(git(join(inputs.repos, "acme+widget"), "show", `${commit}:widget/core.py`)).toContain("return x[0]");
  });
});
