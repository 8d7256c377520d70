import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LocalRunnerSandbox, type SandboxRun } from "../../src/lib/sandbox/sandbox";
import { projectLinks, projectSnapshot } from "../../src/lib/sandbox/snapshot";
import { openDb, tables } from "../../src/lib/storage";

const limits = { cpuSeconds: 10, memoryMb: 1024, processes: 32, outputBytes: 64 * 1024, wallSeconds: 30, workspaceMb: 256 };

const run = (input: Omit<SandboxRun, "limits">) =>
  new LocalRunnerSandbox(env.SANDBOX_RUNNER_URL ?? "", env.SANDBOX_RUNNER_SECRET ?? "").run({ ...input, limits }, () => {});

describe("symbolic links in a sandbox run", () => {
  it("recreates an in-root link as a link and leaves out the ones that could escape", async () => {
    const outcome = await run({
      files: [
        { path: "src/config.json", content: '{"ok":true}\n' },
        { path: "docs/guide.md", content: "# guide\n" },
      ],
      links: [
        { path: "config.json", target: "src/config.json" },
        { path: "docs/src", target: "../src" },
        { path: "passwd", target: "../../../../../../etc/passwd" },
        { path: "abs", target: "/etc/passwd" },
        { path: "docs/src/inner", target: "config.json" },
        { path: "docs/guide.md", target: "../src/config.json" },
      ],
      commands: [
        "test -L config.json && cat config.json",
        "test -L docs/src && cat docs/src/config.json",
        "test -e passwd || test -L passwd || echo no-passwd; test -L abs || echo no-abs; test -L src/inner || echo no-inner",
        "test -L docs/guide.md || cat docs/guide.md",
      ],
    });
    expect(outcome.results.map((r) => [r.exitCode, r.stdout])).toEqual([
      [0, '{"ok":true}\n'],
      [0, '{"ok":true}\n'],
      [0, "no-passwd\nno-abs\nno-inner\n"],
      [0, "# guide\n"],
    ]);
    expect(outcome.changedFiles).toEqual([]);
  });

  it("a dangling in-root link is still written, and the run can replace it", async () => {
    const outcome = await run({
      files: [{ path: "a.txt", content: "a\n" }],
      links: [{ path: "later", target: "made-by-the-run.txt" }],
      commands: ["test -L later && ! test -e later && echo dangling", "echo made > made-by-the-run.txt && cat later"],
    });
    expect(outcome.results.map((r) => r.stdout)).toEqual(["dangling\n", "made\n"]);
    expect(outcome.changedFiles.map((f) => f.path)).toEqual(["made-by-the-run.txt"]);
  });

  it("the runner refuses malformed links in a request", async () => {
    const res = await fetch(`${env.SANDBOX_RUNNER_URL}/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.SANDBOX_RUNNER_SECRET}`, "content-type": "application/json" },
      body: JSON.stringify({ files: [], links: [{ path: "x", target: "" }], commands: ["true"] }),
    });
    expect(res.status).toBe(400);
    // The API's one error envelope.
    const body = (await res.json()) as { error: { code: string; issues: { path: string }[] } };
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.issues.map((i) => i.path)).toEqual(["links.0.target"]);
  });
});

describe("projectLinks", () => {
  it("lists the catalog's recorded links, and the snapshot does not mistake them for empty files", async () => {
    const db = openDb(env.DB);
    const projectId = `p_links_${crypto.randomUUID()}`;
    const row = { projectId, sha256: "x", sizeBytes: 0, tokenCount: 0, binary: false, type: "code", chunkCount: 0, jobCreatedAt: 1 };
    await db.insert(tables.files).values([
      { ...row, path: "empty.txt", status: "text" },
      { ...row, path: "lib/current", status: "link", linkTarget: "v2" },
      { ...row, path: "a-link", status: "link", linkTarget: "lib" },
      { ...row, path: "out", status: "skipped", skipReason: "symlink", linkTarget: "../../etc/passwd" },
      { ...row, path: "logo.png", status: "binary", binary: true },
    ]);
    expect(await projectLinks(db, projectId)).toEqual([
      { path: "a-link", target: "lib" },
      { path: "lib/current", target: "v2" },
    ]);
    expect([...(await projectSnapshot(db, env.CHUNKS, projectId))]).toEqual([["empty.txt", ""]]);
  });
});
