/**
 * The concurrency scenario: 8 ingests into 8 projects and 4 re-ingests of one project at once, with
 * assemblies at a target rate beside them; then every project must equal a clean ingest of the same tree.
 */
import { type Ctx, createProject, type FileRow, type JobView, listFiles, projectFrames, upload, waitJob } from "./api";
import { bugReport, reportBytes, rng } from "./bug-report";
import { ApiError, percentile, sleep } from "./recorder";
import type { Archive, Ready } from "./workloads";

export type ConcurrencyResult = {
  quiet: { rate: number; p95: number; count: number };
  loaded: { rate: number; p95: number; count: number; skipped: number };
  loadSeconds: number;
  checks: { name: string; ok: boolean; detail: string }[];
  order: string[];
};

const CHECK_BUDGETS = [8_000, 13_000, 27_000];

/**
 * Fires assemblies at `rate` per second (open loop) until `stop()` says so, at most `maxInFlight` at once:
 * a tick that finds them all busy is skipped and counted, so the achieved rate is what the machine allows.
 */
async function drive(ctx: Ctx, targets: Ready[], op: string, rate: number, maxInFlight: number, stop: () => boolean, seed: number) {
  const random = rng(seed);
  const t0 = Date.now();
  let inFlight = 0;
  let sent = 0;
  let skipped = 0;
  const pending = new Set<Promise<unknown>>();
  for (let next = t0; !stop(); next += 1000 / rate) {
    await sleep(Math.max(0, next - Date.now()));
    if (inFlight >= maxInFlight) {
      skipped++;
      continue;
    }
    const p = targets[sent % targets.length] as Ready;
    const budget = CHECK_BUDGETS[sent % CHECK_BUDGETS.length] as number;
    sent++;
    inFlight++;
    const call = ctx.rec
      .call(op, "/api/context/assemble", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ projectId: p.projectId, prompt: bugReport(p.frames, random, reportBytes(random, 1_000, 4_000)), budget }),
      })
      .finally(() => {
        inFlight--;
        pending.delete(call);
      });
    pending.add(call);
  }
  await Promise.all(pending);
  return { sent, skipped, seconds: (Date.now() - t0) / 1000 };
}

const fileKey = (files: FileRow[]): string[] => files.map((f) => `${f.path} ${f.sha256} ${f.status}`).sort();

const COMPARISON_BUDGET = 27_000;

type Piece = { key: string; score: number; tokens: number };

async function pieces(ctx: Ctx, projectId: string, prompt: string): Promise<Piece[] | undefined> {
  const r = await ctx.rec.call<{
    contextPieces: { kind: string; sourcePath: string; startLine: number; endLine: number; score: number; tokenCount: number }[];
  }>("assemble (comparison)", "/api/context/assemble", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ projectId, prompt, budget: COMPARISON_BUDGET }),
  });
  if (r instanceof ApiError) return undefined;
  return r.contextPieces.map((p) => ({ key: `${p.kind} ${p.sourcePath}:${p.startLine}-${p.endLine}`, score: p.score, tokens: p.tokenCount }));
}

/**
 * The reference's best pieces up to 80% of the budget, with their scores. Each prompt names its pieces
 * by chunk id, and ids derive from the project id, so two projects with the same tree differ by a few
 * tokens per piece: only what is packed last, at the budget's edge, may differ. The core must not.
 */
function core(ps: Piece[]): string[] {
  const out: string[] = [];
  let used = 0;
  for (const p of [...ps].sort((a, b) => b.score - a.score || a.key.localeCompare(b.key))) {
    used += p.tokens;
    if (used > 0.8 * COMPARISON_BUDGET) break;
    out.push(`${p.key} ${p.score.toFixed(6)}`);
  }
  return out;
}

function diffSummary(want: string[], got: string[]): string {
  const w = new Set(want);
  const g = new Set(got);
  const missing = want.filter((x) => !g.has(x));
  const extra = got.filter((x) => !w.has(x));
  return `${missing.length} missing (${missing.slice(0, 3).join("; ")}), ${extra.length} extra (${extra.slice(0, 3).join("; ")})`;
}

export async function runConcurrency(ctx: Ctx, archives: Archive[], rate: number, seed: number): Promise<ConcurrencyResult> {
  const checks: ConcurrencyResult["checks"] = [];
  const order: string[] = [];
  // 1. A clean ingest of every tree, alone: the reference each project must equal.
  const reference = new Map<string, Ready>();
  for (const a of archives) {
    const projectId = await createProject(ctx, `clean ${a.name}`);
    const up = projectId ? await upload(ctx, projectId, a.bytes) : undefined;
    const job = projectId && up ? await waitJob(ctx, `clean ingest ${a.name}`, up.jobId) : undefined;
    if (!projectId || job?.status !== "done") throw new Error(`the clean ingest of ${a.name} did not finish: ${JSON.stringify(job)}`);
    reference.set(a.name, { projectId, name: a.name, frames: await projectFrames(ctx, projectId) });
    ctx.log(`clean ingest ${a.name}: ${job.files.total} files, ${job.tokens.toLocaleString("en-US")} tokens`);
  }
  const targets = [...reference.values()];
  await sleep(5_000);

  // 2. The quiet assembly rate and p95, with the same driver that runs beside the load.
  const quietEnd = Date.now() + 30_000;
  const quietRun = await drive(ctx, targets, "assemble (quiet)", rate, 16, () => Date.now() > quietEnd, seed);
  const quietMs = (ctx.rec.latencies.get("assemble (quiet)") ?? []).map((s) => s.ms);

  // 3. The load: 8 new projects and 4 re-ingests of one project, all uploads started at once.
  const fresh = await Promise.all(
    Array.from({ length: 8 }, async (_, k) => ({ archive: archives[k % archives.length] as Archive, projectId: await createProject(ctx, `concurrent ${k}`) })),
  );
  const target = await createProject(ctx, "concurrent re-ingests");
  const first = archives[0] as Archive;
  if (!target || fresh.some((f) => !f.projectId)) throw new Error("could not create the projects");
  const seeded = await upload(ctx, target, first.bytes);
  if (!seeded || (await waitJob(ctx, "re-ingest target: first tree", seeded.jobId))?.status !== "done") throw new Error("the target's first ingest failed");
  const reTrees = Array.from({ length: 4 }, (_, k) => archives[(k + 1) % archives.length] as Archive);

  let loadDone = false;
  const loadStart = Date.now();
  const loaded = drive(ctx, targets, "assemble (under load)", rate, 16, () => loadDone, seed + 1);
  const freshJobs = fresh.map(async (f, k) => {
    const up = await upload(ctx, f.projectId as string, f.archive.bytes);
    return up ? waitJob(ctx, `concurrent ingest ${k} (${f.archive.name})`, up.jobId, loadStart) : undefined;
  });
  const reJobs = reTrees.map(async (a, k) => {
    const up = await upload(ctx, target, a.bytes);
    return { archive: a, job: up ? await waitJob(ctx, `concurrent re-ingest ${k} (${a.name})`, up.jobId, loadStart) : undefined };
  });
  const [freshDone, reDone] = await Promise.all([Promise.all(freshJobs), Promise.all(reJobs)]);
  loadDone = true;
  const loadSeconds = (Date.now() - loadStart) / 1000;
  const loadedRun = await loaded;
  const loadedMs = (ctx.rec.latencies.get("assemble (under load)") ?? []).map((s) => s.ms);
  ctx.log(`load finished in ${loadSeconds.toFixed(0)} s`);

  // 4. Every project equals its clean ingest, once the shards' summaries have settled.
  await sleep(10_000);
  const random = rng(seed + 2);
  for (const [k, f] of fresh.entries()) {
    const job = freshDone[k];
    const ref = reference.get(f.archive.name) as Ready;
    checks.push({ name: `concurrent ingest ${k} (${f.archive.name}) ended done`, ok: job?.status === "done", detail: job?.status ?? "no job" });
    const [want, got] = await Promise.all([listFiles(ctx, ref.projectId), listFiles(ctx, f.projectId as string)]);
    const same = want !== undefined && got !== undefined && JSON.stringify(fileKey(want)) === JSON.stringify(fileKey(got));
    checks.push({
      name: `project ${k} (${f.archive.name}) files = clean ingest`,
      ok: same,
      detail: same ? `${got?.length} files` : diffSummary(fileKey(want ?? []), fileKey(got ?? [])),
    });
    const prompt = bugReport(ref.frames, random, 3_000);
    const [wp, gp] = await Promise.all([pieces(ctx, ref.projectId, prompt), pieces(ctx, f.projectId as string, prompt)]);
    const best = core(wp ?? []);
    const held = new Set((gp ?? []).map((p) => `${p.key} ${p.score.toFixed(6)}`));
    const samePieces = wp !== undefined && gp !== undefined && best.every((p) => held.has(p));
    checks.push({
      name: `project ${k} (${f.archive.name}) query = clean ingest (its best pieces up to 80% of the budget, with their scores)`,
      ok: samePieces,
      detail: samePieces ? `${best.length} of ${gp?.length} pieces` : diffSummary(best, [...held]),
    });
  }

  // 5. The re-ingested project holds the tree of the job created last, whole, never a mix.
  for (const r of reDone) order.push(`${r.job?.createdAt ?? "?"} ${r.job?.jobId ?? "?"} ${r.archive.name} → ${r.job?.status ?? "?"}`);
  order.sort();
  const finished = reDone.filter((r): r is { archive: Archive; job: JobView } => r.job !== undefined);
  // Uploads of one project are applied in order; one still waiting when a newer one arrives is superseded by it.
  // The server's order: creation time, then job id for uploads created in the same millisecond.
  const byAge = [...finished].sort((a, b) => a.job.createdAt.localeCompare(b.job.createdAt) || a.job.jobId.localeCompare(b.job.jobId));
  const latest = byAge.at(-1);
  const superseded = (r: { job: JobView }): boolean => r.job.status === "failed" && JSON.stringify(r.job.errors).includes("superseded by job_");
  checks.push({
    name: "4 re-ingests of one project ended done, or superseded by a later one; the latest done",
    ok: finished.length === 4 && latest?.job.status === "done" && finished.every((r) => r.job.status === "done" || (r !== latest && superseded(r))),
    detail: order.join("; "),
  });
  const tie = finished.filter((r) => r.job.createdAt === latest?.job.createdAt).length > 1;
  const now = await listFiles(ctx, target);
  if (latest && now) {
    const want = await listFiles(ctx, (reference.get(latest.archive.name) as Ready).projectId);
    const same = JSON.stringify(fileKey(want ?? [])) === JSON.stringify(fileKey(now));
    const wantPaths = new Set((want ?? []).map((f) => f.path));
    const foreign = now.filter((f) => !wantPaths.has(f.path)).length;
    checks.push({
      name: `the re-ingested project holds the latest job's tree (${latest.archive.name}, ${latest.job.jobId}${tie ? ", created in the same millisecond as another, later by job id" : ""})`,
      ok: same,
      detail: same ? `${now.length} files` : `${diffSummary(fileKey(want ?? []), fileKey(now))}; ${foreign} paths not in the latest tree`,
    });
  }
  const quietP95 = percentile(quietMs, 95);
  const loadedP95 = percentile(loadedMs, 95);
  checks.push({
    name: "assembly p95 under load within 2× quiet",
    ok: loadedP95 <= 2 * quietP95,
    detail: `${loadedP95.toFixed(0)} ms vs ${quietP95.toFixed(0)} ms quiet`,
  });
  return {
    quiet: { rate: quietMs.length / quietRun.seconds, p95: quietP95, count: quietMs.length },
    loaded: { rate: loadedMs.length / loadedRun.seconds, p95: loadedP95, count: loadedMs.length, skipped: loadedRun.skipped },
    loadSeconds,
    checks,
    order,
  };
}
