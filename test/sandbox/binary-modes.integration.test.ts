/**
 * Binary files and executable bits reach the workspace: a project archived by GNU tar, git archive and zip runs
 * its own executable check (`./check.sh`, no `sh` in front), which verifies the binary fixtures byte for byte.
 */
import { env } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { hmacSha256Hex } from "../../src/lib/crypto/hash";
import { api, createProject, json, waitForJob } from "../support/api";

const base = inject("realArchivesUrl");

type Result = { exitCode: number | null; stdout: string; stderr: string };
type Run = { runId: string; status: string; results: Result[]; sameOutcome?: boolean };

const start = (body: unknown) => api("/api/sandbox/runs", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

async function upload(name: string, contentType: string): Promise<string> {
  const body = new Uint8Array(await (await fetch(`${base}/${name}`)).arrayBuffer());
  const projectId = await createProject();
  const { jobId } = await json<{ jobId: string }>(
    await api(`/api/projects/${projectId}/ingest`, { method: "POST", body, headers: { "content-type": contentType } }),
    202,
  );
  const job = await waitForJob(jobId);
  expect(job.status).toBe("done");
  expect(job.outcomes).toMatchObject({ binary: 2 });
  return projectId;
}

const CHECKED = "fixtures/pixel.png: OK\nfixtures/bytes.bin: OK\nhello from check\n";

describe("binary files and modes in the sandbox", () => {
  it.each([
    ["exec-gnu.tar.gz", "application/gzip"],
    ["exec-git-archive.tar.gz", "application/gzip"],
    ["exec-git-archive.zip", "application/zip"],
    ["exec-info-zip.zip", "application/zip"],
  ])("%s: the executable check runs directly and finds every binary fixture byte for byte; a replay too", async (name, type) => {
    const projectId = await upload(name, type);
    const run = await json<Run>(await start({ projectId, commands: ["./check.sh"] }), 200);
    expect(run.results[0]?.stderr).toBe("");
    expect(run.results[0]?.stdout).toBe(CHECKED);
    expect(run.status).toBe("passed");
    // The modes as the workspace has them: 0755 where the archive said executable, 0644 elsewhere.
    const modes = await json<Run>(await start({ projectId, commands: ["stat -c '%A %n' check.sh tools/greet.sh fixtures/bytes.bin fixtures/pixel.png"] }), 200);
    expect(modes.results[0]?.stdout).toBe("-rwxr-xr-x check.sh\n-rwxr-xr-x tools/greet.sh\n-rw-r--r-- fixtures/bytes.bin\n-rw-r--r-- fixtures/pixel.png\n");
    const replay = await json<Run>(await api(`/api/sandbox/runs/${run.runId}/replay`, { method: "POST" }), 200);
    expect(replay).toMatchObject({ status: "passed", sameOutcome: true });
    expect(replay.results[0]?.stdout).toBe(CHECKED);
  });

  it("a push keeps a file's recorded executable bit (the git host is read by path, without modes) and brings a binary file's bytes", async () => {
    const projectId = await upload("exec-gnu.tar.gz", "application/gzip");
    const repo = `acme/exec-${crypto.randomUUID().slice(0, 8)}`;
    const linked = await json<{ webhookSecret: string; webhookPath: string }>(
      await api(`/api/projects/${projectId}/repository`, {
        method: "PUT",
        body: JSON.stringify({ fullName: repo }),
        headers: { "content-type": "application/json" },
      }),
      200,
    );
    const after = "c".repeat(40);
    const pushed = new Uint8Array(Array.from({ length: 1000 }, (_, i) => (i * 13) % 256));
    const publish = async (path: string, body: string | Uint8Array) =>
      expect((await fetch(`${env.GIT_API_BASE_URL}/__files/${repo}/${after}/${encodeURIComponent(path)}`, { method: "PUT", body })).status).toBe(204);
    await publish("tools/greet.sh", '#!/bin/sh\necho "pushed $1"\n');
    await publish("fixtures/pushed.bin", pushed);
    const payload = {
      ref: "refs/heads/main",
      before: "a".repeat(40),
      after,
      repository: { full_name: repo, default_branch: "main" },
      commits: [{ id: "c1", added: ["fixtures/pushed.bin"], removed: [], modified: ["tools/greet.sh"] }],
    };
    const body = new TextEncoder().encode(JSON.stringify(payload));
    const res = await api(linked.webhookPath, {
      method: "POST",
      body,
      token: "",
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-hub-signature-256": `sha256=${await hmacSha256Hex(linked.webhookSecret, body)}`,
      },
    });
    const { jobs } = await json<{ jobs: { jobId: string }[] }>(res, 202);
    expect((await waitForJob(jobs[0]?.jobId as string)).status).toBe("done");
    const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", pushed))].map((b) => b.toString(16).padStart(2, "0")).join("");
    const run = await json<Run>(await start({ projectId, commands: ["./tools/greet.sh push && sha256sum fixtures/pushed.bin"] }), 200);
    expect(run.results[0]?.stdout).toBe(`pushed push\n${digest}  fixtures/pushed.bin\n`);
  });

  it("a changed executable file stays executable; a diff that touches a binary file is refused as before", async () => {
    const projectId = await upload("exec-gnu.tar.gz", "application/gzip");
    const changed = await json<Run>(
      await start({
        projectId,
        commands: ["./tools/greet.sh change"],
        change: { files: [{ path: "tools/greet.sh", content: '#!/bin/sh\necho "changed $1"\n' }] },
      }),
      200,
    );
    expect(changed).toMatchObject({ status: "passed", results: [{ stdout: "changed change\n" }] });
    const diff = "--- a/fixtures/bytes.bin\n+++ b/fixtures/bytes.bin\n@@ -1 +1 @@\n-x\n+y\n";
    const refused = await json<{ error: { code: string } }>(await start({ projectId, commands: ["true"], change: { diff } }), 422);
    expect(refused.error.code).toBe("patch_failed");
  });
});
