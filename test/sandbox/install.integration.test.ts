/**
 * The sandbox's install phase on the local runner: a real JavaScript project with one dependency
 * (test/fixtures/sandbox), locked by npm, pnpm and yarn in turn, installs through the runner's egress proxy
 * from the tests' local registry, its own tests fail before the bug fix and pass after it, and later runs take
 * the dependencies from the cache, read-only, with no network at all; so does a Python project from its
 * requirements, and a Rust crate with no dependencies goes through cargo's install and test.
 */
import { env } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { ADMIN, api, ingestTree, json, newOrg } from "../support/api";
import { TEST_ORG_ID } from "../support/test-org";

type Result = { command: string; exitCode: number | null; stdout: string; stderr: string; stoppedFor: string | null };
type Install = { cacheKey: string; cached: boolean; results: Result[]; ok: boolean; refusedHosts: string[] };
type Run = { runId: string; status: string; results: Result[]; install: Install | null };

const { invoiceProject, invoiceFix, slugProject, slugFix, pnpmProject, yarnProject, cargoProject, cargoFix, toolchains } = inject("sandboxFixtures");
const { registryHost } = inject("sandboxRunner");

const start = (body: unknown, token = ADMIN) =>
  api("/api/sandbox/runs", { method: "POST", token, body: JSON.stringify(body), headers: { "content-type": "application/json" } });
const patchProject = (projectId: string, body: unknown, token = ADMIN) =>
  api(`/api/projects/${projectId}`, { method: "PATCH", token, body: JSON.stringify(body), headers: { "content-type": "application/json" } });
const patchSettings = (body: unknown) =>
  api(`/api/orgs/${TEST_ORG_ID}/settings`, { method: "PATCH", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
// A comment unique to the test makes its own cache key, so the install really runs (the cache outlives a test session).
const fresh = (): string => `npm ci # ${crypto.randomUUID()}`;

// A package with no dependencies whose own postinstall script leaves a mark in node_modules.
const scriptProject = [
  { path: "package.json", content: JSON.stringify({ name: "s", version: "1.0.0", scripts: { postinstall: "touch node_modules/.postinstall-ran" } }) },
  {
    path: "package-lock.json",
    content: JSON.stringify({ name: "s", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": { name: "s", version: "1.0.0" } } }),
  },
];

describe("the install phase", () => {
  it("installs a real project's locked dependency through the proxy: its tests fail before the fix and pass after it", async () => {
    const projectId = await ingestTree(invoiceProject);
    await json(await patchProject(projectId, { installCommands: [fresh()] }), 200);
    const before = await json<Run>(await start({ projectId }), 200);
    expect(before.install).toMatchObject({ cached: false, ok: true, refusedHosts: [] });
    expect(before.install?.results[0]?.exitCode).toBe(0);
    expect(before.results.map((r) => r.command)).toEqual(["npm test --silent"]);
    // The dependency loaded (no MODULE_NOT_FOUND): the tests fail on the bug itself.
    expect(before.results[0]?.stdout).toContain("'0.5' !== '0.05'");
    expect(`${before.results[0]?.stderr}${before.results[0]?.stdout}`).not.toContain("Cannot find module");
    expect(before.status).toBe("failed");

    const after = await json<Run>(await start({ projectId, change: { diff: invoiceFix } }), 200);
    expect(after.status).toBe("passed");
    expect(after.results[0]?.stdout).toMatch(/# pass 5\n/);
    // Same lockfile, same commands, same org: the cache, no second install.
    expect(after.install).toMatchObject({ cacheKey: before.install?.cacheKey, cached: true, results: [], ok: true });
    const view = await json<{ install: Install; request: { install: { commands: string[]; lockfiles: string[] } } }>(
      await api(`/api/sandbox/runs/${after.runId}`),
      200,
    );
    expect(view.install).toMatchObject({ cached: true, ok: true });
    expect(view.request.install.lockfiles).toEqual(["package-lock.json"]);
  });

  it("installs a real Python project's pinned requirement from the index through the proxy: fails before the fix, passes after", async () => {
    const projectId = await ingestTree(slugProject);
    const before = await json<Run>(await start({ projectId }), 200);
    expect(before.install).toMatchObject({ ok: true, refusedHosts: [] });
    expect(before.results.map((r) => r.command)).toEqual(["python3 -m pytest -q"]);
    // The requirement imported (no ModuleNotFoundError): the month is not padded.
    expect(before.results[0]?.stdout).toContain("2 failed, 1 passed");
    expect(before.results[0]?.stdout).not.toContain("ModuleNotFoundError");
    expect(before.status).toBe("failed");
    const after = await json<Run>(await start({ projectId, change: { diff: slugFix } }), 200);
    expect(after.results[0]?.stdout).toContain("3 passed");
    expect(after).toMatchObject({ status: "passed", install: { cached: true, cacheKey: before.install?.cacheKey } });
    const view = await json<{ request: { install: { commands: string[]; lockfiles: string[] } } }>(await api(`/api/sandbox/runs/${after.runId}`), 200);
    expect(view.request.install).toMatchObject({
      commands: ["python3 -m venv --system-site-packages .venv && .venv/bin/pip install -r requirements.txt"],
      lockfiles: ["requirements.txt"],
    });
  });

  it("picks `npm ci` from the lockfile when the project sets no install commands", async () => {
    const projectId = await ingestTree(invoiceProject);
    const run = await json<Run & { runId: string }>(await start({ projectId, change: { diff: invoiceFix } }), 200);
    expect(run.status).toBe("passed");
    const view = await json<{ request: { install: { commands: string[]; allowScripts: boolean } } }>(await api(`/api/sandbox/runs/${run.runId}`), 200);
    expect(view.request.install).toMatchObject({ commands: ["npm ci"], allowScripts: false });
  });

  it("reaches only the configured registries: the proxy refuses any other host, and there is no other way out", async () => {
    const projectId = await ingestTree(invoiceProject);
    const probe = [
      "curl -sS -o /dev/null -x $HTTPS_PROXY https://example.com/ || echo refused-by-proxy",
      "curl -sS -o /dev/null -x $HTTP_PROXY http://169.254.169.254/latest/meta-data/ -w '%{http_code}\\n'",
      "curl -sS -m 5 -o /dev/null --noproxy '*' https://1.1.1.1/ || echo no-direct-route",
      `curl -sS -o /dev/null -x $HTTP_PROXY http://${registryHost}/winky-fixture-pad -w 'registry %{http_code}\\n'`,
    ].join("; ");
    await json(await patchProject(projectId, { installCommands: [probe, fresh()] }), 200);
    const run = await json<Run>(await start({ projectId, change: { diff: invoiceFix } }), 200);
    const out = run.install?.results[0]?.stdout ?? "";
    expect(out).toContain("refused-by-proxy");
    expect(out).toContain("403");
    expect(out).toContain("no-direct-route");
    expect(out).toContain("registry 200");
    expect(run.install?.refusedHosts).toEqual(["example.com:443", "169.254.169.254:80"]);
    expect(run.status).toBe("passed");
  });

  it("gives the checks the dependencies read-only and no network at all", async () => {
    const projectId = await ingestTree(invoiceProject);
    const commands = [
      "touch node_modules/x 2>&1 || echo read-only",
      "rm -rf node_modules/winky-fixture-pad 2>&1; test -f node_modules/winky-fixture-pad/index.js && echo still-there",
      `curl -sS -m 5 -o /dev/null http://${registryHost}/ || echo no-network`,
      "node -e \"require('winky-fixture-pad'); console.log('resolved')\"",
    ];
    const run = await json<Run>(await start({ projectId, commands }), 200);
    expect(run.install?.ok).toBe(true);
    expect(run.results.map((r) => r.stdout.trim().split("\n").at(-1))).toEqual(["read-only", "still-there", "no-network", "resolved"]);
  });

  it("fails the run, running no check, when the install fails", async () => {
    const projectId = await ingestTree(invoiceProject);
    await json(await patchProject(projectId, { installCommands: ["echo cannot install >&2; exit 3"] }), 200);
    const run = await json<Run>(await start({ projectId, change: { diff: invoiceFix } }), 200);
    expect(run).toMatchObject({ status: "failed", results: [], install: { ok: false, cached: false } });
    expect(run.install?.results[0]).toMatchObject({ exitCode: 3, stderr: "cannot install\n" });
  });

  it("runs no install script unless the org allows them, and keeps the two apart in the cache", async () => {
    const projectId = await ingestTree(scriptProject);
    const check = ["test -e node_modules/.postinstall-ran && echo scripts-ran || echo scripts-off"];
    const off = await json<Run>(await start({ projectId, commands: check }), 200);
    expect(off.results[0]?.stdout).toBe("scripts-off\n");
    try {
      expect((await json<{ allowInstallScripts: boolean }>(await patchSettings({ allowInstallScripts: true }), 200)).allowInstallScripts).toBe(true);
      const on = await json<Run>(await start({ projectId, commands: check }), 200);
      expect(on.results[0]?.stdout).toBe("scripts-ran\n");
      expect(on.install?.cacheKey).not.toBe(off.install?.cacheKey);
    } finally {
      await patchSettings({ allowInstallScripts: false });
    }
    expect((await json<Run>(await start({ projectId, commands: check }), 200)).results[0]?.stdout).toBe("scripts-off\n");
  });

  it("keeps each org's installs to itself: the same lockfile in another org has its own cache key", async () => {
    const mine = await json<Run>(await start({ projectId: await ingestTree(invoiceProject), commands: ["true"] }), 200);
    const other = await newOrg("install-other");
    const theirs = await json<Run>(await start({ projectId: await ingestTree(invoiceProject, {}, other.apiKey), commands: ["true"] }, other.apiKey), 200);
    expect(theirs.install?.ok).toBe(true);
    expect(theirs.install?.cacheKey).not.toBe(mine.install?.cacheKey);
  });

  it("sets and clears a project's install commands, refusing bad ones, other orgs and keys without admin", async () => {
    const projectId = await ingestTree(invoiceProject);
    expect((await json<{ installCommands: string[] | null }>(await patchProject(projectId, { installCommands: ["npm ci"] }), 200)).installCommands).toEqual([
      "npm ci",
    ]);
    expect((await json<{ error: { code: string } }>(await patchProject(projectId, { installCommands: [] }), 400)).error.code).toBe("invalid_request");
    expect((await json<{ error: { code: string } }>(await patchProject(projectId, { installCommands: ["x".repeat(5000)] }), 400)).error.code).toBe(
      "invalid_request",
    );
    const other = await newOrg("install-patch");
    await json(await patchProject(projectId, { installCommands: ["true"] }, other.apiKey), 404);
    const reader = await json<{ apiKey: string }>(
      await api("/api/keys", { method: "POST", body: JSON.stringify({ name: "r", scopes: ["read"] }), headers: { "content-type": "application/json" } }),
      201,
    );
    await json(await patchProject(projectId, { installCommands: ["true"] }, reader.apiKey), 403);
    expect((await json<{ installCommands: string[] | null }>(await patchProject(projectId, { installCommands: null }), 200)).installCommands).toBeNull();
    const row = await env.DB.prepare("SELECT install_commands FROM projects WHERE project_id = ?").bind(projectId).first();
    expect(row).toEqual({ install_commands: null });
  });

  // pnpm and yarn are installed by scripts/install-system-deps.sh (pinned); without them these say so and skip.
  for (const [manager, project, command] of [
    ["pnpm", pnpmProject, "pnpm install --frozen-lockfile --store-dir /tmp/.pnpm-store"],
    ["yarn", yarnProject, "yarn install --frozen-lockfile --non-interactive"],
  ] as const) {
    it.skipIf(!toolchains[manager])(
      `installs the same project from its ${manager} lockfile through the proxy: fails before the fix, passes after${toolchains[manager] ? "" : ` (skipped: no ${manager} under /usr; run scripts/install-system-deps.sh)`}`,
      async () => {
        // An org of its own: the cache is per org and outlives a test session, so the install really runs.
        const org = await newOrg(`install-${manager}`);
        const projectId = await ingestTree(project, {}, org.apiKey);
        const before = await json<Run>(await start({ projectId }, org.apiKey), 200);
        expect(before.install).toMatchObject({ cached: false, ok: true, refusedHosts: [] });
        expect(before.install?.results.map((r) => r.command)).toEqual([command]);
        expect(before.results[0]?.stdout).toContain("'0.5' !== '0.05'");
        expect(`${before.results[0]?.stderr}${before.results[0]?.stdout}`).not.toContain("Cannot find module");
        expect(before.status).toBe("failed");
        const after = await json<Run>(await start({ projectId, change: { diff: invoiceFix } }, org.apiKey), 200);
        expect(after.results[0]?.stdout).toMatch(/# pass 5\n/);
        expect(after).toMatchObject({ status: "passed", install: { cached: true, cacheKey: before.install?.cacheKey } });
      },
    );
  }

  it.skipIf(!toolchains.cargo)(
    `fetches and tests a Rust crate with cargo: fails before the fix, passes after${toolchains.cargo ? "" : " (skipped: no cargo under /usr, which is all the sandbox sees; run scripts/install-system-deps.sh)"}`,
    async () => {
      const org = await newOrg("install-cargo");
      const projectId = await ingestTree(cargoProject, {}, org.apiKey);
      const before = await json<Run>(await start({ projectId }, org.apiKey), 200);
      // No dependency: the install phase's `cargo fetch` needs no registry (crates.io is not reachable here).
      expect(before.install).toMatchObject({ ok: true, refusedHosts: [] });
      expect(before.install?.results.map((r) => r.command)).toEqual(["cargo fetch --locked"]);
      expect(before.results.map((r) => r.command)).toEqual(["cargo test --offline"]);
      expect(before.results[0]?.stdout).toContain("test result: FAILED. 2 passed; 2 failed");
      expect(before.status).toBe("failed");
      const after = await json<Run>(await start({ projectId, change: { diff: cargoFix } }, org.apiKey), 200);
      expect(after.results[0]?.stdout).toContain("test result: ok. 4 passed");
      expect(after).toMatchObject({ status: "passed", install: { cached: true, cacheKey: before.install?.cacheKey } });
    },
  );
});
