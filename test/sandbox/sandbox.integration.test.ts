import { env } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { api, ingestTree, json } from "../support/api";
import type { TreeFile } from "../support/archives";

type Result = {
  command: string;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  stoppedFor: string | null;
  truncated: boolean;
};
type Run = { runId: string; status: string; results: Result[]; artifacts: { path: string; key: string }[]; sameOutcome?: boolean };

const jsProject: TreeFile[] = [
  { path: "package.json", content: JSON.stringify({ name: "calc", scripts: { test: "node test.js" } }) },
  { path: "calc.js", content: "exports.add = (a, b) => a + b;\n" },
  {
    path: "test.js",
    content: "const assert = require('assert');\nconst { add } = require('./calc');\nassert.strictEqual(add(2, 3), 5);\nconsole.log('ok');\n",
  },
];
const pyProject: TreeFile[] = [
  { path: "calc.py", content: "def add(a, b):\n    return a + b\n" },
  {
    path: "test_calc.py",
    content: "import unittest\nfrom calc import add\n\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n",
  },
];

// The case: pytest-style tests, pytest only in requirements.txt, no pytest.ini or conftest.py.
const pytestProject: TreeFile[] = [
  { path: "requirements.txt", content: "pytest>=7\n" },
  { path: "calc.py", content: "def total(xs):\n    return sum(xs)\n" },
  { path: "tests/test_calc.py", content: "from calc import total\n\n\ndef test_total():\n    assert total([1, 2, 3]) == 6\n" },
];

const project = (files: TreeFile[]): Promise<string> => ingestTree(files);

const start = (body: unknown, headers: Record<string, string> = {}) =>
  api("/api/sandbox/runs", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", ...headers } });

const breakAdd = "--- a/calc.js\n+++ b/calc.js\n@@ -1 +1 @@\n-exports.add = (a, b) => a + b;\n+exports.add = (a, b) => a - b;\n";

describe("sandbox runs on the local bubblewrap runner", () => {
  it("passes and fails a JavaScript project's checks, applying the change first", async () => {
    const projectId = await project(jsProject);
    const ok = await json<Run>(await start({ projectId }), 200);
    expect(ok.status).toBe("passed");
    expect(ok.results).toMatchObject([{ command: "npm test --silent", exitCode: 0 }]);
    const bad = await json<Run>(await start({ projectId, change: { diff: breakAdd } }), 200);
    expect(bad.status).toBe("failed");
    expect(bad.results[0]?.stderr).toContain("AssertionError");
    const recorded = await json<{ status: string; request: { change: { diff: string } } }>(await api(`/api/sandbox/runs/${bad.runId}`), 200);
    expect(recorded).toMatchObject({ status: "failed", request: { change: { diff: breakAdd } } });
  });

  it("passes and fails a Python project's checks, and keeps changed files as artifacts", async () => {
    const projectId = await project(pyProject);
    const ok = await json<Run>(await start({ projectId, commands: ["python3 -m unittest -q", "echo built > report.txt"] }), 200);
    expect(ok.status).toBe("passed");
    expect(ok.artifacts.map((a) => a.path)).toEqual(["report.txt"]);
    expect(await (await env.CHUNKS.get(ok.artifacts[0]?.key ?? ""))?.text()).toBe("built\n");
    const bad = await json<Run>(await start({ projectId, change: { files: [{ path: "calc.py", content: "def add(a, b):\n    return a * b\n" }] } }), 200);
    expect(bad.status).toBe("failed");
    expect(bad.results[0]?.stderr).toContain("FAILED");
  });

  it("runs pytest for a project that lists it in requirements.txt: a broken change fails, it is never a false pass", async () => {
    const projectId = await project(pytestProject);
    const ok = await json<Run>(await start({ projectId }), 200);
    expect(ok.results.map((r) => [r.command, r.exitCode])).toEqual([["python3 -m pytest -q", 0]]);
    expect(ok.results[0]?.stdout).toContain("1 passed");
    expect(ok.status).toBe("passed");
    const broken = "--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def total(xs):\n-    return sum(xs)\n+    return 0\n";
    const bad = await json<Run>(await start({ projectId, change: { diff: broken } }), 200);
    expect(bad.status).toBe("failed");
    expect(bad.results[0]?.stdout).toContain("1 failed");
  });

  it("ends no_tests, never passed, when the test runner collected nothing, and says so when read back and replayed", async () => {
    const projectId = await project([{ path: "calc.py", content: "def total(xs):\n    return sum(xs)\n" }]);
    const run = await json<Run>(await start({ projectId }), 200);
    expect(run.results).toMatchObject([{ command: "python3 -m unittest discover -q", exitCode: 0 }]);
    expect(run.status).toBe("no_tests");
    const pytest = await json<Run>(await start({ projectId, commands: ["python3 -m pytest -q"] }), 200);
    expect(pytest.results).toMatchObject([{ exitCode: 5 }]);
    expect(pytest.status).toBe("no_tests");
    expect((await json<{ status: string }>(await api(`/api/sandbox/runs/${run.runId}`), 200)).status).toBe("no_tests");
    const replay = await json<Run>(await api(`/api/sandbox/runs/${run.runId}/replay`, { method: "POST" }), 200);
    expect(replay).toMatchObject({ status: "no_tests", sameOutcome: true });
  });

  it("ends at once with toolchain_missing naming what the checks need and the machine lacks, recorded as error", async () => {
    const projectId = await project([
      { path: "go.mod", content: "module example.com/calc\n\ngo 1.22\n" },
      { path: "calc.go", content: "package calc\n\nfunc Add(a, b int) int { return a + b }\n" },
    ]);
    const refused = await json<{ error: { code: string; message: string } }>(await start({ projectId }), 422);
    expect(refused.error).toEqual({
      code: "toolchain_missing",
      message: "`go vet ./...` needs go: not installed in this sandbox (install it, or set the project's checkCommands to checks it can run)",
      requestId: expect.any(String),
    });
    const row = await env.DB.prepare("SELECT status, error FROM sandbox_runs WHERE project_id = ?").bind(projectId).first();
    expect(row).toMatchObject({ status: "error", error: expect.stringContaining("needs go") });
    // What the machine has still runs.
    expect((await json<Run>(await start({ projectId, commands: ["test -f go.mod"] }), 200)).status).toBe("passed");
  });

  it("takes the project's check commands when the request names none", async () => {
    const projectId = await project(jsProject);
    const patch = (body: unknown) =>
      api(`/api/projects/${projectId}`, { method: "PATCH", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    expect(
      (await json<{ checkCommands: string[] }>(await patch({ checkCommands: ["node test.js", "node -e 'process.exit(4)'"] }), 200)).checkCommands,
    ).toHaveLength(2);
    const run = await json<Run>(await start({ projectId }), 200);
    expect(run.results.map((r) => [r.command, r.exitCode])).toEqual([
      ["node test.js", 0],
      ["node -e 'process.exit(4)'", 4],
    ]);
    expect(run.status).toBe("failed");
    expect((await json<{ error: { code: string } }>(await patch({ checkCommands: [] }), 400)).error.code).toBe("invalid_request");
    await patch({ checkCommands: null });
    expect((await json<Run>(await start({ projectId }), 200)).results[0]?.command).toBe("npm test --silent");
  });

  it("refuses a diff that does not apply, naming file and hunk, and runs nothing", async () => {
    const projectId = await project(jsProject);
    const res = await json<{ error: { code: string; message: string } }>(
      await start({ projectId, change: { diff: breakAdd.replace("a + b;", "a + c;") } }),
      422,
    );
    expect(res.error.code).toBe("patch_failed");
    expect(res.error.message).toContain("calc.js: hunk 1 (@@ -1 +1 @@)");
    const runs = await env.DB.prepare("SELECT count(*) AS n FROM sandbox_runs WHERE project_id = ?").bind(projectId).first<{ n: number }>();
    expect(runs?.n).toBe(0);
  });

  // Each hostile command in a fresh run of its own, each followed by a clean run that must pass.
  const balloon = "python3 -c \"b = []\nwhile True: b.append(b'x' * (32 << 20))\"";
  const ptrace = 'python3 -c "import ctypes; libc = ctypes.CDLL(None, use_errno=True); print(libc.ptrace(0, 0, 0, 0), ctypes.get_errno())"';
  const hostile: { name: string; limits?: Record<string, number>; commands: string[]; contained: (r: Result[]) => void }[] = [
    {
      name: "network from a check",
      commands: [
        "curl -sS -m 5 http://1.1.1.1/",
        "node -e \"require('http').get('http://example.com', () => {}).on('error', (e) => { console.error(e.code); process.exit(3) })\"",
      ],
      contained: ([curl, node]) => {
        expect(curl?.exitCode).not.toBe(0);
        expect(node?.exitCode).toBe(3);
      },
    },
    {
      name: "writes to /etc and /usr",
      commands: ["touch /usr/escape && echo wrote-outside", "echo x > /etc/passwd", "mkdir /etc/cron.d"],
      contained: ([usr, passwd, cron]) => {
        expect(usr?.stderr).toContain("Read-only file system");
        expect(usr?.stdout).not.toContain("wrote-outside");
        expect(passwd?.exitCode).not.toBe(0);
        expect(cron?.exitCode).not.toBe(0);
      },
    },
    {
      name: "a fork bomb",
      limits: { processes: 32 },
      commands: ["bomb() { bomb | bomb & }; bomb; sleep 2; echo survived"],
      contained: ([bomb]) => expect(bomb?.stderr).toMatch(/fork|Resource temporarily unavailable/i),
    },
    {
      name: "a memory balloon that touches its pages",
      limits: { memoryMb: 256 },
      commands: [balloon],
      contained: ([b]) => {
        expect(b?.exitCode).not.toBe(0);
        // The cgroup's OOM kill where the machine lets the runner make one (this one does), else RLIMIT_AS's MemoryError.
        if (inject("sandboxRunner").limits.memory === "rlimit only") expect(b?.stderr).toContain("MemoryError");
        else expect(b?.stoppedFor).toBe("memory");
      },
    },
    {
      name: "a disk fill",
      limits: { workspaceMb: 64 },
      commands: [
        "for i in 1 2 3 4 5 6; do head -c 30000000 /dev/zero > fill$i || exit 9; done",
        "for i in 1 2 3 4 5 6; do head -c 60000000 /dev/zero > /tmp/f$i || exit 8; done",
      ],
      contained: ([workspace, tmp]) => {
        if (inject("sandboxRunner").limits.workspace === "bounded volume") {
          expect(workspace).toMatchObject({ exitCode: 9 });
          expect(workspace?.stderr).toContain("No space left on device");
        }
        expect(tmp).toMatchObject({ exitCode: 8 });
        expect(tmp?.stderr).toContain("No space left on device");
      },
    },
    {
      name: "endless output",
      limits: { outputBytes: 64 * 1024 },
      commands: ["yes"],
      contained: ([yes]) => {
        expect(yes).toMatchObject({ stoppedFor: "output", truncated: true });
        expect(yes?.stdout.length).toBeLessThanOrEqual(64 * 1024 + 100);
      },
    },
    {
      name: "an endless loop",
      limits: { cpuSeconds: 3, wallSeconds: 10 },
      commands: ["while true; do :; done"],
      contained: ([loop]) => expect(loop?.exitCode === 137 || loop?.signal === "SIGKILL").toBe(true),
    },
    {
      name: "a detached child outliving its command",
      commands: ["setsid sh -c 'sleep 2; echo alive > late.txt' > /dev/null 2>&1 &\necho started", "sleep 3; test -e late.txt && echo survived || echo gone"],
      contained: ([, check]) => expect(check?.stdout).toBe("gone\n"),
    },
    {
      name: "links swapped in for artifacts",
      commands: [
        "echo mine > out.txt; ln -s /etc/hostname host.txt; ln -s /proc/self/environ env.txt; mkdir d; ln -s / d/root; " +
          "setsid sh -c 'while :; do ln -sf /etc/shadow swap.txt; echo mine > swap.tmp; mv -f swap.tmp swap.txt; done' > /dev/null 2>&1 & sleep 1; echo done",
      ],
      contained: () => undefined,
    },
    {
      name: "calls the seccomp filter refuses (ptrace, unshare, mount)",
      commands: [ptrace, "unshare -n true && echo unshared", "strace -f true && echo traced", "mount -t tmpfs none /tmp && echo mounted"],
      contained: ([trace, unshare, strace, mount]) => {
        expect(trace?.stdout).toBe("-1 1\n");
        expect(unshare?.stdout).not.toContain("unshared");
        expect(strace?.stdout).not.toContain("traced");
        expect(mount?.stdout).not.toContain("mounted");
      },
    },
  ];
  for (const h of hostile) {
    it(`contains ${h.name} in a fresh run, and the next run passes`, async () => {
      const projectId = await project(jsProject);
      const run = await json<Run>(await start({ projectId, commands: h.commands, ...(h.limits ? { limits: h.limits } : {}) }), 200);
      h.contained(run.results);
      // Whatever the run wrote, only its own regular files come back: never a link's target.
      for (const a of run.artifacts) {
        const text = (await (await env.CHUNKS.get(a.key))?.text()) ?? "";
        expect(text).not.toMatch(/^root:|PATH=/m);
      }
      if (h.name.startsWith("links")) expect(run.artifacts.map((a) => a.path).filter((p) => !p.startsWith("swap"))).toEqual(["out.txt"]);
      const next = await json<Run>(await start({ projectId }), 200);
      expect(next.status).toBe("passed");
    });
  }

  it("kills a command's detached children with it, at its end and at its deadline", async () => {
    const projectId = await project(jsProject);
    const check = "sleep 3; test -e late.txt && echo survived || echo gone";
    const ended = await json<Run>(await start({ projectId, commands: ["(sleep 2; echo alive > late.txt) > /dev/null 2>&1 &\necho started", check] }), 200);
    expect(ended.results.map((r) => r.stdout)).toEqual(["started\n", "gone\n"]);
    const limits = { wallSeconds: 4 };
    const deadline = await json<Run>(
      await start({ projectId, limits, commands: ["setsid sh -c 'sleep 5; echo alive > late.txt' > /dev/null 2>&1 & sleep 60", check] }),
      200,
    );
    expect(deadline.results[0]).toMatchObject({ stoppedFor: "wall-time" });
    expect(deadline.results[1]?.stdout).toBe("gone\n");
  });

  it("shows a minimal read-only /etc, bounds /tmp, and refuses nested user namespaces", async () => {
    const projectId = await project(jsProject);
    const run = await json<Run>(
      await start({
        projectId,
        commands: [
          "cat /etc/passwd",
          "ls /etc",
          "touch /etc/x || touch /x || echo read-only",
          "for i in 1 2 3 4 5; do head -c 60000000 /dev/zero > /tmp/f$i || exit 7; done",
          "unshare -U true && echo nested",
          "node -e 'console.log(require(\"os\").userInfo().username)'",
        ],
      }),
      200,
    );
    const [passwd, etc, write, tmp, userns, user] = run.results as Result[];
    expect(passwd?.stdout).toMatch(/^root:x:0:0:root:\/:\/usr\/sbin\/nologin\nrunner:x:\d+:\d+:sandbox run:\/workspace:\/bin\/sh\n$/);
    expect(etc?.stdout.split("\n").filter(Boolean).sort()).toEqual(expect.arrayContaining(["group", "hosts", "passwd"]));
    expect(etc?.stdout).not.toContain("shadow");
    expect(write?.stdout).toBe("read-only\n");
    expect(tmp).toMatchObject({ exitCode: 7 });
    expect(tmp?.stderr).toContain("No space left on device");
    expect(userns?.exitCode).not.toBe(0);
    expect(userns?.stdout).not.toContain("nested");
    expect(user?.stdout).toBe("runner\n");
  });

  it("returns at most 256 artifacts of at most 1 MiB each, each stored in R2", async () => {
    const projectId = await project(jsProject);
    const run = await json<Run>(
      await start({
        projectId,
        commands: ["mkdir out && for i in $(seq 1 300); do echo $i > out/f$i.txt; done; head -c 2000000 /dev/zero | tr '\\0' x > big.txt"],
      }),
      200,
    );
    expect(run.artifacts).toHaveLength(256);
    expect(run.artifacts.map((a) => a.path)).not.toContain("big.txt");
    const first = run.artifacts[0];
    expect(await (await env.CHUNKS.get(first?.key ?? ""))?.text()).toMatch(/^\d+\n$/);
  });

  it("the runner refuses requests without its shared secret", async () => {
    const body = JSON.stringify({ files: [], commands: ["id"] });
    expect((await fetch(`${env.SANDBOX_RUNNER_URL}/runs`, { method: "POST", body })).status).toBe(401);
    expect((await fetch(`${env.SANDBOX_RUNNER_URL}/runs`, { method: "POST", body, headers: { authorization: "Bearer wrong" } })).status).toBe(401);
  });

  it("keeps concurrent runs apart", async () => {
    const projectId = await project(jsProject);
    const runs = await Promise.all(
      [1, 2, 3].map(async (i) => json<Run>(await start({ projectId, commands: [`echo ${i} > mine.txt; sleep 1; ls; cat mine.txt`] }), 200)),
    );
    for (const [i, run] of runs.entries()) {
      expect(run.results[0]?.stdout.trim().split("\n").at(-1)).toBe(String(i + 1));
      expect(run.artifacts.map((a) => a.path)).toEqual(["mine.txt"]);
    }
  });

  it("streams events while the commands run, and replays a run with the same outcome", async () => {
    const projectId = await project(jsProject);
    const res = await start({ projectId, change: { diff: breakAdd } }, { accept: "application/x-ndjson" });
    expect(res.headers.get("content-type")).toContain("application/x-ndjson");
    const events = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; runId?: string; status?: string });
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["start", "output", "exit", "done", "summary"]));
    // Artifacts go to R2 as they arrive; a client streaming the run never gets their content.
    expect(events.map((e) => e.type)).not.toContain("artifact");
    const summary = events.at(-1) as { runId: string; status: string };
    expect(summary.status).toBe("failed");
    const replay = await json<Run & { replayOf: string }>(await api(`/api/sandbox/runs/${summary.runId}/replay`, { method: "POST" }), 200);
    expect(replay).toMatchObject({ replayOf: summary.runId, status: "failed", sameOutcome: true });
  });
});
