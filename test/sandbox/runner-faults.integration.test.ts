/** A sandbox runner that dies mid-run or never answers ends the run as failed with a reason, and leaks nothing. */
import { env } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { AppError } from "../../src/lib/errors";
import { executeRun } from "../../src/lib/sandbox/runs";
import { LocalRunnerSandbox, type SandboxRun } from "../../src/lib/sandbox/sandbox";
import { openDb } from "../../src/lib/storage";
import { api, ingestTree, json } from "../support/api";

const host = inject("gitHostUrl");
const input: SandboxRun = {
  files: [{ path: "test.js", content: "console.log('ok')\n" }],
  commands: ["node test.js"],
  limits: { cpuSeconds: 10, memoryMb: 512, processes: 32, outputBytes: 65536, wallSeconds: 1, workspaceMb: 256 },
};

async function failure(run: () => Promise<unknown>): Promise<AppError> {
  try {
    await run();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error("expected an AppError");
}

describe("a sandbox runner that fails mid-run", () => {
  it("dying after its first event fails the run with a reason that names no address", async () => {
    const events: string[] = [];
    const e = await failure(() => new LocalRunnerSandbox(`${host}/__dying-runner`, "s").run(input, (ev) => events.push(ev.type)));
    expect(events).toEqual(["start"]);
    expect(e).toMatchObject({ status: 502, code: "sandbox_failed", message: "the sandbox runner stopped in the middle of the run" });
    expect(e.message).not.toContain("127.0.0.1");
  });

  it("an event of a shape the protocol does not have fails the run, never guessed at", async () => {
    const events: string[] = [];
    const e = await failure(() => new LocalRunnerSandbox(`${host}/__garbled-runner`, "s").run(input, (ev) => events.push(ev.type)));
    expect(events).toEqual(["start"]);
    expect(e).toMatchObject({ status: 502, code: "sandbox_failed", message: "the sandbox runner sent an event of an unknown shape" });
  });

  it("never answering fails the run at its deadline (the commands' wall limits plus setup)", async () => {
    const e = await failure(() => new LocalRunnerSandbox(`${host}/__silent-runner`, "s", 1).run(input, () => undefined));
    expect(e).toMatchObject({ status: 502, code: "sandbox_failed" });
    expect(e.message).toMatch(/within 2 s/);
  });

  it("records the run as error with its reason, and the next run on the real runner passes", async () => {
    const projectId = await ingestTree([
      { path: "package.json", content: JSON.stringify({ name: "t", scripts: { test: "node test.js" } }) },
      { path: "test.js", content: "console.log('ok')\n" },
    ]);
    const runId = `run_${crypto.randomUUID().replace(/-/g, "")}`;
    await env.DB.prepare("INSERT INTO sandbox_runs (run_id, project_id, org_id, request, status) VALUES (?, ?, 'org_test', '{}', 'running')")
      .bind(runId, projectId)
      .run();
    const broken = { ...env, SANDBOX_RUNNER_URL: `${host}/__dying-runner` };
    await expect(executeRun(broken, openDb(env.DB), runId, projectId, input, () => undefined)).rejects.toThrow("stopped in the middle of the run");
    const row = await env.DB.prepare("SELECT status, error FROM sandbox_runs WHERE run_id = ?").bind(runId).first();
    expect(row).toEqual({ status: "error", error: "the sandbox runner stopped in the middle of the run" });

    const next = await json<{ status: string }>(
      await api("/api/sandbox/runs", { method: "POST", body: JSON.stringify({ projectId }), headers: { "content-type": "application/json" } }),
      200,
    );
    expect(next.status).toBe("passed");
  });
});
