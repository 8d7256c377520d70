/** The soak's lanes: ingests one after another, webhook pushes, bug-report assemblies, sessions with the fake model, sandbox runs. */
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import { type Ctx, createProject, listFiles, projectFrames, upload, waitJob } from "./api";
import { bugReport, type Frame, reportBytes, rng } from "./bug-report";
import { ApiError, sleep } from "./recorder";

export type Archive = { name: string; bytes: Buffer };
/** A finished project assemblies and sessions can run against. */
export type Ready = { projectId: string; name: string; frames: Frame[] };

export const BUDGETS = [8_000, 13_000, 27_000, 50_000, 128_000, 500_000];

/** Shared between lanes: the finished projects, and the small pushed project the sandbox runs on. */
export type Shared = { ready: Ready[]; pushed: string | undefined; ingests: number; tokens: number; pushes: number };

/** Each archive into a new project, one after another; every third round after the first pass re-ingests a project instead. */
export async function ingestLane(ctx: Ctx, archives: Archive[], shared: Shared): Promise<void> {
  const byArchive = new Map<string, Ready>();
  for (let i = 0; Date.now() < ctx.end; i++) {
    const archive = archives[i % archives.length] as Archive;
    const again = i >= archives.length && i % 3 === 0 ? byArchive.get(archive.name) : undefined;
    const projectId = again?.projectId ?? (await createProject(ctx, `soak ${archive.name} #${i}`));
    if (!projectId) {
      await sleep(2_000);
      continue;
    }
    const t0 = Date.now();
    const up = await upload(ctx, projectId, archive.bytes);
    if (!up) continue;
    const label = `${again ? "re-ingest" : "ingest"} ${archive.name} (round ${i})`;
    const job = await waitJob(ctx, label, up.jobId, t0);
    if (job?.status !== "done") continue;
    ctx.rec.note(again ? "re-ingest (upload to done)" : "ingest (upload to done)", Date.now() - t0);
    shared.ingests++;
    shared.tokens += job.tokens;
    ctx.log(`${label}: ${job.files.total} files, ${job.tokens.toLocaleString("en-US")} tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (!again) {
      // The same tree has the same functions: read them once per archive.
      const ready = { projectId, name: archive.name, frames: byArchive.get(archive.name)?.frames ?? (await projectFrames(ctx, projectId)) };
      byArchive.set(archive.name, ready);
      shared.ready.push(ready);
    }
  }
}

/** `lanes` loops of bug-report assemblies (1–25 kB) at every budget against finished projects. */
export async function assemblyLanes(ctx: Ctx, shared: Shared, lanes: number, seed: number): Promise<void> {
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      const random = rng(seed + lane);
      for (let i = lane; Date.now() < ctx.end; i += lanes) {
        const p = shared.ready[Math.floor(random() * shared.ready.length)];
        if (!p) {
          await sleep(1_000);
          continue;
        }
        const budget = BUDGETS[i % BUDGETS.length] as number;
        const r = await ctx.rec.call<{ tokenTotal: number }>(`assemble ${budget / 1000}k`, "/api/context/assemble", {
          method: "POST",
          headers: { "content-type": "application/json" },
          // A report longer than the budget allows is refused (400 prompt_too_long), so small budgets get shorter ones.
          body: JSON.stringify({ projectId: p.projectId, prompt: bugReport(p.frames, random, reportBytes(random, 1_000, Math.min(25_000, budget))), budget }),
        });
        if (!(r instanceof ApiError) && r.tokenTotal > budget) ctx.rec.countError(`assemble ${budget / 1000}k over budget`);
      }
    }),
  );
}

const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");

/**
 * Pushes to a project linked to a repository the fake git host serves: each push adds three files,
 * modifies two and removes one, and the project must then hold exactly the repository's tree.
 */
export async function webhookLane(ctx: Ctx, gitHost: string, shared: Shared, everyMs: number): Promise<void> {
  const projectId = await createProject(ctx, "soak webhook");
  if (!projectId) return;
  const repo = `soak/push-${randomUUID().slice(0, 8)}`;
  const linked = await ctx.rec.call<{ webhookSecret: string; webhookPath: string }>("link repository", `/api/projects/${projectId}/repository`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ fullName: repo }),
  });
  if (linked instanceof ApiError) return;
  const tree = new Map<string, string>();
  let before = "0".repeat(40);
  for (let n = 0; Date.now() < ctx.end; n++) {
    const after = randomBytes(20).toString("hex");
    const existing = [...tree.keys()];
    const added = [0, 1, 2].map((k) => `pkg/mod_${n}_${k}.py`);
    const modified = existing.slice(0, 2);
    const removed = existing.length > 6 ? [existing[existing.length - 1] as string] : [];
    for (const p of [...added, ...modified]) tree.set(p, `"""Module ${p}, push ${n}."""\n\n\ndef handler_${n}(value):\n    return value + ${n}\n`);
    for (const p of removed) tree.delete(p);
    for (const p of [...added, ...modified]) {
      await fetch(`${gitHost}/__files/${repo}/${after}/${encodeURIComponent(p)}`, { method: "PUT", body: tree.get(p) });
    }
    const body = Buffer.from(
      JSON.stringify({
        ref: "refs/heads/main",
        before,
        after,
        repository: { full_name: repo, default_branch: "main" },
        commits: [{ id: after, added, modified, removed }],
      }),
    );
    before = after;
    const t0 = Date.now();
    const signature = `sha256=${createHmac("sha256", linked.webhookSecret).update(body).digest("hex")}`;
    const r = await ctx.rec.call<{ jobs: { jobId: string }[] }>("webhook push", linked.webhookPath, {
      method: "POST",
      token: "",
      headers: { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": signature },
      body,
    });
    const jobId = r instanceof ApiError ? undefined : r.jobs[0]?.jobId;
    if (jobId) {
      const job = await waitJob(ctx, `push ${n} to ${repo}`, jobId, t0);
      if (job?.status === "done") {
        ctx.rec.note("push (push to done)", Date.now() - t0);
        shared.pushes++;
        const files = await listFiles(ctx, projectId);
        const want = [...tree.entries()].map(([p, c]) => `${p} ${sha256(c)}`).sort();
        const got = (files ?? []).map((f) => `${f.path} ${f.sha256}`).sort();
        if (JSON.stringify(want) !== JSON.stringify(got)) {
          ctx.rec.countError("webhook project differs from the pushed tree");
          ctx.log(`push ${n}: project holds ${got.length} files, the repository ${want.length}`);
        }
        shared.pushed = projectId;
      }
    }
    await sleep(everyMs);
  }
}

/** Sandbox runs of a small check against the pushed project. */
export async function sandboxLane(ctx: Ctx, shared: Shared, everyMs: number): Promise<void> {
  for (let n = 0; Date.now() < ctx.end; n++) {
    if (shared.pushed) {
      const r = await ctx.rec.call<{ status: string; results: { command: string; exitCode: number; stderr: string }[] }>("sandbox run", "/api/sandbox/runs", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          projectId: shared.pushed,
          change: { files: [{ path: "soak_check.py", content: `import pkg\nprint(sum(range(${n + 10})))\n` }] },
          commands: ["python3 soak_check.py", "ls pkg | wc -l"],
          limits: { wallSeconds: 30 },
        }),
      });
      if (!(r instanceof ApiError) && r.status !== "passed") {
        ctx.rec.countError(`sandbox run ${r.status}`);
        ctx.log(`sandbox run ${r.status}: ${JSON.stringify(r.results).slice(0, 500)}`);
      }
    }
    await sleep(everyMs);
  }
}

/**
 * Sessions with the fake model: a session, a generation inside it (plan and expand replies scripted on the
 * Messages server by a marker at the end of the prompt), a session assembly, and every other session deleted.
 */
export async function sessionLane(ctx: Ctx, messages: string, shared: Shared, everyMs: number, seed: number): Promise<void> {
  const random = rng(seed);
  for (let n = 0; Date.now() < ctx.end; n++) {
    const p = shared.ready[Math.floor(random() * shared.ready.length)];
    if (!p) {
      await sleep(1_000);
      continue;
    }
    const session = await ctx.rec.call<{ sessionId: string }>("session create", "/api/sessions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ projectId: p.projectId }),
    });
    if (session instanceof ApiError) {
      await sleep(everyMs);
      continue;
    }
    const marker = `m-${randomUUID()}`;
    const target = p.frames[0]?.path ?? "app.py";
    const reply = (match: string, text: string) => fetch(`${messages}/__reply?match=${encodeURIComponent(match)}`, { method: "PUT", body: text });
    await reply(`${marker}\n\nAnswer with JSON only`, JSON.stringify({ summary: "fix the crash", steps: [{ description: "guard None", files: [target] }] }));
    await reply(`${marker}\n\nPlan:`, JSON.stringify({ files: [{ path: target, content: `# fixed in soak ${n}\n` }], sources: [] }));
    const prompt = `${bugReport(p.frames, random, reportBytes(random, 1_000, 8_000))}\n\n${marker}`;
    const gen = await ctx.rec.call<{ id: string }>("generate (in session)", "/api/ai/generate-prototype", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ projectId: p.projectId, sessionId: session.sessionId, prompt, maxContextTokens: 60_000, verify: false }),
    });
    if (gen instanceof ApiError) ctx.log(`generation in ${session.sessionId}: ${gen.status} ${gen.body.slice(0, 300)}`);
    await ctx.rec.call("session assemble", `/api/sessions/${session.sessionId}/assemble`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: bugReport(p.frames, random, reportBytes(random)), budget: 27_000 }),
    });
    if (n % 2 === 1) await ctx.rec.call("session delete", `/api/sessions/${session.sessionId}`, { method: "DELETE" });
    await sleep(everyMs);
  }
}

/** The health endpoint every 30 s: its queue check names stalled jobs too. */
export async function healthLane(ctx: Ctx): Promise<void> {
  while (Date.now() < ctx.end) {
    const r = await ctx.rec.call<{ status: string; checks: { queue?: { stalledJobs?: number; oldestQueuedSeconds?: number | null } } }>("health", "/health", {
      token: "",
    });
    if (!(r instanceof ApiError) && (r.checks.queue?.stalledJobs ?? 0) > 0) {
      ctx.rec.countError("health: stalled jobs");
      ctx.log(`health: ${JSON.stringify(r)}`);
    }
    await sleep(30_000);
  }
}
