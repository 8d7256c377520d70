/**
 * The built CLI (dist/cli/winky.mjs) run as a user runs it, against a local server: login, projects,
 * ingest of a git repository, status, assemble, keys, --json output and the exit codes.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";

const { bin, server, adminKey, messagesUrl } = inject("cli");

type Run = { code: number; stdout: string; stderr: string };

const home = mkdtempSync(join(tmpdir(), "winky-cli-home-"));
const configHome = join(home, "config");

/** Runs the CLI with a clean environment: only the config dir and PATH, so nothing leaks in from the machine. */
function winky(args: string[], env: Record<string, string> = {}, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      // worker-configuration.d.ts adds the Worker's vars to ProcessEnv as required; a child needs none of them.
      {
        cwd: home,
        env: { PATH: process.env.PATH ?? "", HOME: home, XDG_CONFIG_HOME: configHome, ...env } as Record<string, string> as unknown as NodeJS.ProcessEnv,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

const json = <T>(r: Run): T => {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};

/** A small git repository: source files, a .gitignore'd file, a binary one and one past the 1 MiB file limit. */
function makeRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), "winky-cli-repo-"));
  mkdirSync(join(dir, "src"));
  writeFileSync(
    join(dir, "src", "greeting.ts"),
    'export function greetVisitor(name: string): string {\n  return "hello, " + name + ", from the winky cli test";\n}\n',
  );
  writeFileSync(join(dir, "README.md"), "# cli fixture\n\nA repository the CLI test ingests.\n");
  writeFileSync(join(dir, ".gitignore"), "secret-notes.txt\n");
  writeFileSync(join(dir, "secret-notes.txt"), "this file is ignored and must not be uploaded\n");
  writeFileSync(join(dir, "logo.bin"), Buffer.from([0, 1, 2, 3, 0, 255, 254, 0, 0, 7, 8, 9, 0, 0, 0, 1]));
  writeFileSync(join(dir, "huge.txt"), "a line of text past the file size limit\n".repeat(40_000));
  execFileSync("git", ["init", "-q"], { cwd: dir });
  // Committed, so `git apply --3way` finds the files' preimages in the index.
  execFileSync("git", ["add", "."], { cwd: dir });
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "fixture"], { cwd: dir });
  return dir;
}

describe("winky CLI (built bundle, local server)", () => {
  let projectId = "";

  beforeAll(async () => {
    const r = await winky(["login", "--server", server, "--key", adminKey]);
    expect(r.code, r.stderr).toBe(0);
  });

  it("login stores the server and key in $XDG_CONFIG_HOME/winky/config.json, readable by its owner only", () => {
    const path = join(configHome, "winky", "config.json");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(configHome, "winky")).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ server, apiKey: adminKey });
  });

  it("a wrong key exits 3 (auth) with the server's error envelope under --json", async () => {
    const r = await winky(["projects", "list", "--json", "--key", "wk_not_a_real_key"]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: "unauthorized", message: expect.any(String), requestId: expect.any(String) } });
    const bad = await winky(["login", "--server", server, "--key", "wk_not_a_real_key"]);
    expect(bad.code).toBe(3);
  });

  it("projects create, list and delete; an unknown project exits 4", async () => {
    const created = json<{ projectId: string }>(await winky(["projects", "create", "cli-temp", "--json"]));
    expect(created.projectId).toMatch(/^prj_/);
    const listed = json<{ projects: { projectId: string; name: string }[] }>(await winky(["projects", "list", "--json"]));
    expect(listed.projects.map((p) => p.projectId)).toContain(created.projectId);
    const text = await winky(["projects"]);
    expect(text.stdout).toContain("cli-temp");
    const deleted = json<{ jobId: string }>(await winky(["projects", "delete", created.projectId, "--json"]));
    expect(deleted.jobId).toBeTruthy();
    const missing = await winky(["projects", "delete", "prj_does_not_exist"]);
    expect(missing.code).toBe(4);
    const usage = await winky(["projects", "rename"]);
    expect(usage.code).toBe(2);
  });

  it("ingest uploads a git repository without its ignored file, counts the binary one and lists skipped files with their reasons", async () => {
    const repo = makeRepo();
    const r = await winky(["ingest", repo, "--name", "cli-fixture"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/outcomes\s+3 text, 0 decoded from another encoding, 1 binary/);
    expect(r.stdout).toMatch(/skipped\s+1 \S/);
    expect(r.stdout).toMatch(/- huge\.txt: \S/);
    expect(r.stderr).toMatch(/uploaded: project prj_\S+, job \S+/);
    const again = json<{ projectId: string; job: { status: string; files: { total: number }; skipped: { path: string; reason: string }[] } }>(
      await winky(["ingest", repo, "--name", "cli-fixture-2", "--json"]),
    );
    expect(again.job.status).toBe("done");
    expect(again.job.files.total).toBe(5);
    expect(again.job.skipped).toEqual([expect.objectContaining({ path: "huge.txt", reason: expect.any(String) })]);
    projectId = again.projectId;
    const files = await fetch(`${server}/api/projects/${projectId}/files`, { headers: { authorization: `Bearer ${adminKey}` } });
    const paths = ((await files.json()) as { files: { path: string }[] }).files.map((f) => f.path);
    expect(paths).toContain("src/greeting.ts");
    expect(paths).not.toContain("secret-notes.txt");
  });

  it("status shows a job, and without an id the projects with files and tokens", async () => {
    const listed = json<{ projects: { projectId: string; files: number; tokens: number; lastJob: { jobId: string } | null }[] }>(
      await winky(["status", "--json"]),
    );
    const mine = listed.projects.find((p) => p.projectId === projectId);
    expect(mine?.files).toBeGreaterThan(0);
    expect(mine?.tokens).toBeGreaterThan(0);
    const jobId = mine?.lastJob?.jobId ?? "";
    const job = json<{ jobId: string; status: string }>(await winky(["status", jobId, "--json"]));
    expect(job).toMatchObject({ jobId, status: "done" });
    expect((await winky(["status", "job_missing"])).code).toBe(4);
  });

  it("assemble writes the context with its ---source lines to stdout and the pieces to stderr", async () => {
    const r = await winky(["assemble", "change greetVisitor so it greets loudly", "--project", projectId, "--budget", "8000"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("---source");
    expect(r.stdout).toContain("export function greetVisitor(name: string): string {");
    expect(r.stderr).toMatch(/pieces, [\d,]+ \/ 8,000 tokens/);
    expect(r.stderr).toContain("src/greeting.ts");
    const out = join(home, "context.txt");
    const toFile = await winky(["assemble", "greetVisitor", "--project", projectId, "--out", out, "--json"]);
    expect(json<{ out: string; tokenTotal: number }>(toFile)).toMatchObject({ out });
    expect(readFileSync(out, "utf8")).toContain("---source");
    expect((await winky(["assemble", "greetVisitor", "--project", "prj_missing"])).code).toBe(4);
    expect((await winky(["assemble", "greetVisitor"])).code).toBe(2);
  });

  it("keys create, list and revoke; the revoked key then exits 3", async () => {
    const minted = json<{ keyId: string; apiKey: string }>(await winky(["keys", "create", "cli-reader", "--scopes", "read", "--expires", "1d", "--json"]));
    expect(minted.apiKey).toMatch(/^wk_/);
    const listed = json<{ keys: { keyId: string; scopes: string[]; expiresAt: string | null }[] }>(await winky(["keys", "list", "--json"]));
    const key = listed.keys.find((k) => k.keyId === minted.keyId);
    expect(key?.scopes).toEqual(["read"]);
    expect(key?.expiresAt).not.toBeNull();
    expect((await winky(["projects", "list", "--key", minted.apiKey])).code).toBe(0);
    // A read-only key may not create projects: 403 is an auth error too.
    expect((await winky(["projects", "create", "nope", "--key", minted.apiKey])).code).toBe(3);
    expect(json<{ revoked: boolean }>(await winky(["keys", "revoke", minted.keyId, "--json"])).revoked).toBe(true);
    const refused = await winky(["projects", "list", "--key", minted.apiKey, "--json"]);
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: { code: "key_revoked" } });
  });

  it("ask streams the session's events live, shows the diff and applies it with --apply --yes", async () => {
    const marker = `cli-ask-${Date.now()}`;
    const reply = (match: string, text: string) => fetch(`${messagesUrl}/__reply?match=${encodeURIComponent(match)}`, { method: "PUT", body: text });
    const loud = 'export function greetVisitor(name: string): string {\n  return "HELLO, " + name.toUpperCase();\n}\n';
    await reply(
      `${marker}\n\nAnswer with JSON only`,
      JSON.stringify({ summary: "greet loudly", steps: [{ description: "uppercase", files: ["src/greeting.ts"] }] }),
    );
    await reply(`${marker}\n\nPlan:`, JSON.stringify({ files: [{ path: "src/greeting.ts", content: loud }], sources: [] }));
    const work = makeRepo();
    const r = await new Promise<Run>((resolve) =>
      execFile(
        process.execPath,
        [bin, "ask", marker, "--project", projectId, "--skip-verify", "--apply", "--yes", "--server", server, "--key", adminKey],
        { cwd: work, env: { PATH: process.env.PATH ?? "", HOME: home } as Record<string, string> as unknown as NodeJS.ProcessEnv },
        (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/#\d+ started: cli-ask-/);
    expect(r.stderr).toMatch(/#\d+ plan: greet loudly/);
    expect(r.stderr).toMatch(/#\d+ result/);
    expect(r.stdout).toContain("+++ b/src/greeting.ts");
    expect(r.stdout).toContain('+  return "HELLO, " + name.toUpperCase();');
    expect(readFileSync(join(work, "src", "greeting.ts"), "utf8")).toBe(loud);
    const sessionId = /session (ses_\S+)/.exec(r.stderr)?.[1] ?? "";
    const watched = await winky(["watch", sessionId, "--until-idle", "--json"]);
    expect(watched.code, watched.stderr).toBe(0);
    const events = watched.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { seq: number; type: string });
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["started", "plan", "result"]));
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
  });

  it("flags win over the environment, which wins over the config file", async () => {
    const env = await winky(["projects", "list"], { WINKY_API_KEY: "wk_from_env_is_wrong" });
    expect(env.code).toBe(3);
    const flag = await winky(["projects", "list", "--key", adminKey], { WINKY_API_KEY: "wk_from_env_is_wrong" });
    expect(flag.code).toBe(0);
  });
});
