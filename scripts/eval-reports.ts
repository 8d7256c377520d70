/**
 * npm run eval -- --from <dir> | --data <cases file> [--data …] --repos <dir of repositories> [--per-repo 20]
 *                 [--budgets 13000,27000,50000,128000,500000] [--only owner/name,…] [--off feature,…] [--no-baseline]
 *                 [--model-summaries [--summary-budget USD]] [--rerank] [--fresh] [--debug] [--explain <budget>] [--write]
 *
 * Retrieval as people use it: each case is a real bug report (the issue text its reporter filed, with
 * its tracebacks, code and paths), the repository at the commit it was filed against, and the patch
 * that fixed it (public data sets such as SWE-bench and Multi-SWE-bench; see scripts/eval/cases.ts).
 * Data and repositories are brought in for the run and never committed: `npm run eval:data -- <dir>`
 * fetches the set of docs/benchmarks.md (scripts/eval/fetch-data.ts), which `--from <dir>` then reads;
 * or `--data` names case files and `--repos` holds `owner+name/repo` or `owner/name` git directories
 * (bare or not).
 *
 * For each case the tree is ingested into its own project (kept between runs unless `--fresh`), the report is
 * sent to `POST /api/context/assemble` at every budget, and the case counts as found when every file the fix
 * modified is among the chunk pieces; its hunks count as covered when every line the fix changed lies inside a
 * piece (and, hunk by hunk, the share of its hunks whose lines all do). Beside it, the BM25 whole-file
 * baseline. Also checked: the chunks at a budget are all among the chunks at every larger one. With `--write`,
 * results go to docs/benchmarks.md; with `--off`, the server runs with those ranking features switched off
 * (`WINKY_RANKING_OFF`: any of RANKING_FEATURES in src/lib/assembly/types.ts, such as vector, mentions, title)
 * and the run's overall row is written as that ablation's line. With `--explain <budget>`, each case found at
 * that budget without all its changed lines prints where the missed lines come in the largest budget's context
 * (scripts/eval/explain.ts).
 *
 * Two switches call a small Claude model (they need ANTHROPIC_API_KEY; ANTHROPIC_BASE_URL for another
 * endpoint), each measured against a run without it, with its cost: `--model-summaries` turns on
 * model-written file and directory summaries for the eval's org (within `--summary-budget` USD per
 * project, default 2), waits for each project's summaries before assembling, and reports their cost per
 * project and per query; `--rerank` sends `rerank: true` with every assembly and reports its cost per
 * query and how often it was applied. Without `--model-summaries` the server reads only the extractive
 * summaries (`WINKY_RANKING_OFF=model-summaries`), even for projects a previous run summarised.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { RANKING_FEATURES } from "../src/lib/assembly/types";
import { DEFAULT_MODEL } from "../src/lib/model/anthropic-adapter";
import { writeSection } from "./benchmarks-doc";
import { Bm25Files } from "./eval/bm25-baseline";
import { type Case, perRepository, readCases } from "./eval/cases";
import { type ExplainedPiece, explainLines, missedLines } from "./eval/explain";
import { evalInputs } from "./eval/fetch-data";
import { goldHunksOf } from "./eval/gold";
import { fileTokens, gitDirOf, hasCommit, treeAt } from "./eval/repo-tree";
import { createProject, ingestArchive, type LocalServer, liftQuotas, startLocalServer } from "./local-server";
import { machineLine } from "./soak/report";

const DEFAULT_BUDGETS = [13_000, 27_000, 50_000, 128_000, 500_000];
const DIR = ".eval/reports";
const STATE_FILE = join(DIR, "projects.json");
const RESULTS_FILE = join(DIR, "results.jsonl");
// The baseline's picks per case and budget: BM25 over a fixed tree does not change between runs.
const BASELINE_FILE = join(DIR, "baseline.json");
type BaselineCache = Record<string, Record<string, string[]>>;

type Piece = ExplainedPiece & { chunkId: string };
type Assembled = { contextPieces: Piece[]; timings: Record<string, number>; rerank?: { status: string; costUsd: number } };
type Saved = { token: string; orgId: string; projects: Record<string, { projectId: string; tokens: number }> };
type BudgetResult = {
  budget: number;
  found: boolean;
  strict: boolean;
  hunks: boolean;
  /** The fix's hunks (in the files `found` counts) whose every changed line lies inside a chunk piece. */
  hunksIn: number;
  baseline: boolean;
  ms: number;
  serverMs: number;
  missing: string[];
  /** With --rerank: what the rerank did and cost. */
  rerank?: { status: string; costUsd: number };
};
type CaseResult = {
  id: string;
  repo: string;
  tokens: number;
  gold: string[];
  /** How many hunks the fix has in those files. */
  hunks: number;
  bookkeeping: string[];
  budgets: BudgetResult[];
  nestedViolations: number;
  /** Each fix file's place among the files of the largest budget's context, in prompt order (for analysis). */
  goldRanks: Record<string, number>;
  /** With --model-summaries: what the case's project spent on them (its ingestion's, shared by its cases). */
  summaryUsd?: number;
};
type ModelOptions = { modelSummaries: boolean; rerank: boolean };

/**
 * Files a fix touches as bookkeeping, not as the change the report asks for: changelogs, release notes
 * and lock files (Multi-SWE-bench's patches carry them; SWE-bench's do not). A case is scored on its
 * other files; the strict score, counting these too, is reported beside.
 */
const BOOKKEEPING =
  /(^|\/)(changelog|changes|history|news|release[-_ ]?notes|credits)[^/]*$|(^|\/)release-notes\/|(^|\/)(cargo\.lock|package-lock\.json|yarn\.lock|pnpm-lock\.yaml|poetry\.lock|uv\.lock|go\.sum|composer\.lock)$/i;

/** The git directory of `owner/name` under `root`, in either layout, matched without regard to case. */
function repositoryDir(root: string, repo: string): string | undefined {
  const [owner, name] = repo.split("/") as [string, string];
  const wanted = [`${owner}+${name}`.toLowerCase(), owner.toLowerCase()];
  for (const entry of readdirSync(root)) {
    const lower = entry.toLowerCase();
    if (lower === wanted[0]) return gitDirOf(existsSync(join(root, entry, "repo")) ? join(root, entry, "repo") : join(root, entry));
    if (lower === wanted[1]) {
      const inner = readdirSync(join(root, entry)).find((n) => n.toLowerCase() === name.toLowerCase());
      if (inner) return gitDirOf(join(root, entry, inner));
    }
  }
  return undefined;
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

function sizeBucket(tokens: number): string {
  return tokens < 1e6 ? "< 1M" : tokens < 3e6 ? "1–3M" : tokens < 8e6 ? "3–8M" : "≥ 8M";
}

/**
 * Runs a call again after a transient failure of the local plumbing (wrangler's dev proxy answers 503
 * or drops the connection under load; see the soak's notes in docs/benchmarks.md), up to three tries,
 * or after the key's rate limit (429), when it says.
 */
async function retrying<T>(what: string, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      // The key's rate limit (429) says when to come back; the local proxy's failures are retried at once.
      const limited = /: 429 /.test(String(e));
      const transient = limited || e instanceof TypeError || /: 503 /.test(String(e));
      if (!transient || attempt >= (limited ? 10 : 3)) throw e;
      const wait = limited ? Number(/try again in (\d+) s/.exec(String(e))?.[1] ?? 5) + 1 : 2 * attempt;
      console.log(`  ${what}: ${String(e).slice(0, 120)}; trying again in ${wait} s`);
      await new Promise((r) => setTimeout(r, wait * 1000));
    }
  }
}

async function projectFor(server: LocalServer, saved: Saved, c: Case, archive: () => Uint8Array, tokens: number): Promise<string | undefined> {
  const key = `${c.repo}@${c.commit}`;
  const known = saved.projects[key];
  if (known) return known.projectId;
  const projectId = await retrying("create project", () => createProject(server, `eval ${c.repo} ${c.commit.slice(0, 8)}`));
  const packed = archive();
  const { ms, job } = await retrying("ingest", () => ingestArchive(server, projectId, packed));
  if (job.status !== "done") {
    console.log(`  ${c.id}: ingest ended ${job.status}: ${JSON.stringify(job.errors).slice(0, 300)}`);
    return undefined;
  }
  console.log(`  ingested ${key} (${(tokens / 1e6).toFixed(2)}M tokens, ${job.files.total} files) in ${(ms / 1000).toFixed(1)} s`);
  saved.projects[key] = { projectId, tokens };
  writeFileSync(STATE_FILE, JSON.stringify(saved, null, 1));
  return projectId;
}

/** Waits until the project's files have been through the summary queue; what the project spent on them. */
async function summariesSettled(server: LocalServer, projectId: string): Promise<number> {
  type View = { pending: number; spentUsdThisMonth: number; byStatus: Record<string, number> };
  for (let waited = 0; ; waited += 2) {
    const r = await retrying("summaries", () => server.call<View>(`/api/projects/${projectId}/summaries`));
    if (r.pending === 0) return r.spentUsdThisMonth;
    if (waited % 60 === 0) console.log(`  summaries: ${r.pending} files pending, ${JSON.stringify(r.byStatus)}, ${r.spentUsdThisMonth.toFixed(4)} USD`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/** The cost lines of a run with the model switches: summaries per project and per query, the rerank per query. */
function modelLines(results: CaseResult[], budgets: number[], opts: ModelOptions): string[] {
  const lines: string[] = [];
  const queries = results.length * budgets.length;
  if (opts.modelSummaries) {
    const byProject = new Map(results.map((r) => [`${r.repo}:${r.tokens}`, r.summaryUsd ?? 0]));
    const total = [...byProject.values()].reduce((a, b) => a + b, 0);
    lines.push(
      `Model-written summaries: ${total.toFixed(4)} USD over ${byProject.size} projects (${(total / Math.max(1, byProject.size)).toFixed(4)} per project, ${(total / Math.max(1, queries)).toFixed(5)} per query spread over the ${queries} assemblies).`,
    );
  }
  if (opts.rerank) {
    const all = results.flatMap((r) => r.budgets.flatMap((b) => (b.rerank ? [b.rerank] : [])));
    const cost = all.reduce((n, b) => n + b.costUsd, 0);
    const applied = all.filter((b) => b.status === "applied").length;
    lines.push(
      `Rerank: applied on ${applied} of ${all.length} assemblies; ${(cost / Math.max(1, all.length)).toFixed(5)} USD per query (${cost.toFixed(4)} in all).`,
    );
  }
  return lines;
}

async function runCase(
  server: LocalServer,
  saved: Saved,
  c: Case,
  dir: string,
  budgets: number[],
  opts: { debug: boolean; baseline: boolean; cache: BaselineCache; explain?: number | undefined } & ModelOptions,
): Promise<CaseResult | string> {
  const { archive, files } = treeAt(dir, c.commit);
  const indexed = new Set(files.map((f) => f.path));
  const touchedHunks = [...goldHunksOf(c.patch)].filter(([path]) => indexed.has(path));
  const touched = touchedHunks.map(([path, hunks]): [string, number[]] => [path, hunks.flat()]);
  const gold = touched.filter(([path]) => !BOOKKEEPING.test(path));
  const goldHunks = touchedHunks.flatMap(([path, hunks]) => (BOOKKEEPING.test(path) ? [] : hunks.map((lines) => ({ path, lines }))));
  const bookkeeping = touched.filter(([path]) => BOOKKEEPING.test(path)).map(([path]) => path);
  if (gold.length === 0) return touched.length === 0 ? "the fix modifies no indexable file" : "the fix modifies only changelogs or lock files";
  const tokens = files.reduce((n, f) => n + fileTokens(f), 0);
  const projectId = await projectFor(server, saved, c, archive, tokens);
  if (!projectId) return "ingest failed";
  const summaryUsd = opts.modelSummaries ? await summariesSettled(server, projectId) : undefined;
  const cached = opts.cache[c.id] ?? {};
  let ranking: ReturnType<Bm25Files["rank"]> | undefined;
  const baselinePicks = (budget: number): Set<string> => {
    if (!opts.baseline) return new Set();
    const hit = cached[String(budget)];
    if (hit) return new Set(hit);
    ranking ??= new Bm25Files(files).rank(c.prompt);
    const picked = Bm25Files.pack(ranking, budget);
    cached[String(budget)] = [...picked];
    opts.cache[c.id] = cached;
    return picked;
  };
  const out: CaseResult = {
    id: c.id,
    repo: c.repo,
    tokens,
    gold: gold.map(([p]) => p),
    hunks: goldHunks.length,
    bookkeeping,
    budgets: [],
    nestedViolations: 0,
    goldRanks: {},
    ...(summaryUsd !== undefined ? { summaryUsd } : {}),
  };
  let previous: Set<string> | undefined;
  let largest: Piece[] = [];
  // One untimed call first: the shard's first assembly after a start reads its path and vector indexes,
  // which would otherwise be charged to whichever budget came first.
  await retrying("warm-up", () =>
    server.call("/api/context/assemble", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ projectId, prompt: c.prompt.slice(0, 200_000), budget: Math.max(...budgets), model: DEFAULT_MODEL }),
    }),
  );
  for (const budget of budgets) {
    // A report longer than the budget is refused (400 prompt_too_long): nothing is found at that budget.
    const res = await retrying("assemble", () =>
      server
        .call<Assembled>("/api/context/assemble", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ projectId, prompt: c.prompt.slice(0, 200_000), budget, model: DEFAULT_MODEL, ...(opts.rerank ? { rerank: true } : {}) }),
        })
        .catch((e: unknown) => {
          if (/: 400 .*prompt_too_long/.test(String(e))) return { contextPieces: [], timings: {} } as Assembled;
          throw e;
        }),
    );
    // The last try's exchange: a retry's waits and the parse are the harness's, not the API's.
    const ms = server.lastMs ?? Number.NaN;
    const chunks = res.contextPieces.filter((p) => p.kind === "chunk");
    const paths = new Set(chunks.map((p) => p.sourcePath));
    const covered = (path: string, line: number): boolean => chunks.some((p) => p.sourcePath === path && p.startLine <= line && line <= p.endLine);
    const missing = gold.filter(([p]) => !paths.has(p)).map(([p]) => p);
    const base = baselinePicks(budget);
    out.budgets.push({
      budget,
      found: missing.length === 0,
      strict: missing.length === 0 && bookkeeping.every((p) => paths.has(p)),
      hunks: gold.every(([p, lines]) => lines.every((l) => covered(p, l))),
      hunksIn: goldHunks.filter((h) => h.lines.every((l) => covered(h.path, l))).length,
      baseline: gold.every(([p]) => base.has(p)),
      ms,
      serverMs: res.timings.total ?? 0,
      missing,
      ...(res.rerank ? { rerank: { status: res.rerank.status, costUsd: res.rerank.costUsd } } : {}),
    });
    if (opts.debug) console.log(`    ${budget / 1000}k timings ${JSON.stringify(res.timings)}`);
    const order = [...new Set(chunks.map((p) => p.sourcePath))];
    out.goldRanks = Object.fromEntries(gold.map(([p]) => [p, order.indexOf(p)]));
    const ids = new Set(chunks.map((p) => p.chunkId));
    if (previous) for (const id of previous) if (!ids.has(id)) out.nestedViolations++;
    previous = ids;
    largest = res.contextPieces;
    if (opts.debug && budget === budgets[0]) {
      console.log(`    gold: ${gold.map(([p, l]) => `${p}:${l.slice(0, 3).join(",")}`).join(" ")}`);
      console.log(`    top: ${order.slice(0, 8).join(" ")}`);
      console.log(`    bm25: ${[...baselinePicks(budget)].slice(0, 5).join(" ")}`);
    }
  }
  const explained = out.budgets.find((b) => b.budget === opts.explain);
  if (explained?.found && !explained.hunks) {
    console.log(`  ${c.id}: where the lines missed at ${explained.budget / 1000}k come at ${Math.max(...budgets) / 1000}k`);
    for (const line of explainLines(missedLines(largest, new Map(gold), explained.budget))) console.log(line);
  }
  return out;
}

function pct(n: number, of: number): string {
  return of === 0 ? "–" : `${((100 * n) / of).toFixed(1)}`;
}

function report(results: CaseResult[], budgets: number[], skipped: Record<string, number>, withBaseline: boolean): string[] {
  const repos = [...new Set(results.map((r) => r.repo))].sort();
  const head = `| repository | cases | tokens | ${budgets.map((b) => `${b / 1000}k`).join(" | ")} |`;
  const rule = `| --- | ---: | ---: | ${budgets.map(() => "---").join(" | ")} |`;
  const cell = (rs: CaseResult[], i: number): string => {
    const at = rs.map((r) => r.budgets[i] as BudgetResult);
    const base = withBaseline ? pct(at.filter((b) => b.baseline).length, rs.length) : "–";
    return `${pct(at.filter((b) => b.found).length, rs.length)} / ${base} / ${pct(at.filter((b) => b.hunks).length, rs.length)}`;
  };
  const rows = repos.map((repo) => {
    const rs = results.filter((r) => r.repo === repo);
    const size = percentile(
      rs.map((r) => r.tokens),
      50,
    );
    return `| ${repo} | ${rs.length} | ${(size / 1e6).toFixed(2)}M | ${budgets.map((_, i) => cell(rs, i)).join(" | ")} |`;
  });
  const buckets = ["< 1M", "1–3M", "3–8M", "≥ 8M"].filter((b) => results.some((r) => sizeBucket(r.tokens) === b));
  const latency = buckets.map((bucket) => {
    const rs = results.filter((r) => sizeBucket(r.tokens) === bucket);
    return `| ${bucket} | ${rs.length} | ${budgets
      .map((_, i) => {
        const server = rs.map((r) => (r.budgets[i] as BudgetResult).serverMs);
        const client = rs.map((r) => (r.budgets[i] as BudgetResult).ms);
        return `${percentile(server, 50).toFixed(0)} / ${percentile(server, 95).toFixed(0)} (${percentile(client, 95).toFixed(0)})`;
      })
      .join(" | ")} |`;
  });
  const violations = results.reduce((n, r) => n + r.nestedViolations, 0);
  const withBookkeeping = results.filter((r) => r.bookkeeping.length > 0).length;
  const strict = budgets.map((_, i) => pct(results.filter((r) => (r.budgets[i] as BudgetResult).strict).length, results.length)).join(" | ");
  const hunkTotal = results.reduce((n, r) => n + r.hunks, 0);
  // Each case weighs the same: a rename's hundreds of hunks would outweigh every other case's (every case has one).
  const hunkShares = (i: number): number => results.reduce((n, r) => n + (r.budgets[i] as BudgetResult).hunksIn / r.hunks, 0);
  const skips = Object.entries(skipped).map(([why, n]) => `${n} skipped: ${why}`);
  return [
    `Measured ${machineLine()}: ${results.length} bug reports on ${new Set(results.map((r) => r.repo)).size} repositories${skips.length > 0 ? ` (${skips.join("; ")})` : ""}. Each case is the issue text as filed, the tree at the commit it was filed against (ingested through the API), and the files the fix modified.`,
    "",
    "Found / BM25 whole files / hunks covered, in % of cases: *found* when every file the fix modified (tests, changelogs, release notes and lock files aside) is among the chunk pieces, *hunks covered* when every line it changed lies inside one. The row after *all* counts changelogs and lock files too; the last is the share of a fix's hunks (changelogs and lock files aside) whose every changed line lies inside a piece, averaged over the cases.",
    "",
    head,
    rule,
    ...rows,
    `| **all** | ${results.length} | | ${budgets.map((_, i) => cell(results, i)).join(" | ")} |`,
    `| all, counting changelogs and lock files (${withBookkeeping} cases touch one) | ${results.length} | | ${strict} |`,
    `| all, share of each case's hunks covered, averaged (${hunkTotal} hunks) | ${results.length} | | ${budgets.map((_, i) => pct(hunkShares(i), results.length)).join(" | ")} |`,
    "",
    `Nested budgets: ${violations === 0 ? "every chunk at a budget was also in the context at every larger budget" : `${violations} chunk(s) present at a budget went missing at a larger one`}.`,
    "",
    "Assembly time by project size, server `timings.total` p50 / p95 in ms (client p95, loopback through `wrangler dev`):",
    "",
    `| project size | cases | ${budgets.map((b) => `${b / 1000}k`).join(" | ")} |`,
    `| --- | ---: | ${budgets.map(() => "---").join(" | ")} |`,
    ...latency,
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      from: { type: "string" },
      data: { type: "string", multiple: true },
      repos: { type: "string" },
      "per-repo": { type: "string" },
      explain: { type: "string" },
      budgets: { type: "string" },
      only: { type: "string" },
      port: { type: "string" },
      fresh: { type: "boolean" },
      debug: { type: "boolean" },
      write: { type: "boolean" },
      off: { type: "string" },
      "no-baseline": { type: "boolean" },
      "model-summaries": { type: "boolean" },
      "summary-budget": { type: "string" },
      rerank: { type: "boolean" },
    },
  });
  const model: ModelOptions = { modelSummaries: values["model-summaries"] ?? false, rerank: values.rerank ?? false };
  // The local server reads .dev.vars (where the README puts the key); a key only in the environment is passed on.
  const keyInDevVars = existsSync(".dev.vars") && /^ANTHROPIC_API_KEY=./m.test(readFileSync(".dev.vars", "utf8"));
  if ((model.modelSummaries || model.rerank) && !keyInDevVars && !process.env.ANTHROPIC_API_KEY)
    throw new Error("--model-summaries and --rerank call a Claude model: put ANTHROPIC_API_KEY in .dev.vars or the environment");
  const off = values.off?.split(",").filter(Boolean) ?? [];
  const unknown = off.filter((f) => !(RANKING_FEATURES as readonly string[]).includes(f));
  if (unknown.length > 0) throw new Error(`unknown ranking feature(s) ${unknown.join(", ")}; known: ${RANKING_FEATURES.join(", ")}`);
  if (values.from) Object.assign(values, evalInputs(values.from));
  if (!values.data?.length || !values.repos)
    throw new Error("usage: npm run eval -- --from <dir of npm run eval:data> | --data <cases.json[l]> [--data …] --repos <dir> [--per-repo N]");
  // Ascending: each budget's context is checked against the one before, and the last is the largest.
  const budgets = values.budgets
    ? values.budgets
        .split(",")
        .map(Number)
        .sort((a, b) => a - b)
    : DEFAULT_BUDGETS;
  const explain = values.explain === undefined ? undefined : Number(values.explain);
  if (explain !== undefined && !budgets.includes(explain)) throw new Error(`--explain ${values.explain}: not one of the budgets (${budgets.join(", ")})`);
  const only = values.only ? new Set(values.only.split(",")) : undefined;
  const skipped: Record<string, number> = {};
  const skip = (why: string): void => {
    skipped[why] = (skipped[why] ?? 0) + 1;
  };
  const all: Case[] = [];
  for (const file of values.data) {
    const { cases, skipped: n } = readCases(file);
    if (n > 0) skipped["rows of another shape"] = (skipped["rows of another shape"] ?? 0) + n;
    all.push(...cases);
  }
  const dirs = new Map<string, string>();
  const usable = all.filter((c) => {
    if (only && !only.has(c.repo)) return false;
    const dir = dirs.get(c.repo) ?? repositoryDir(values.repos as string, c.repo);
    if (!dir) return false;
    dirs.set(c.repo, dir);
    if (!hasCommit(dir, c.commit)) {
      skip("commit not in the repository's history");
      return false;
    }
    return true;
  });
  const cases = perRepository(usable, Number(values["per-repo"] ?? 20));
  console.log(`${cases.length} cases on ${new Set(cases.map((c) => c.repo)).size} repositories`);

  mkdirSync(DIR, { recursive: true });
  const saved: Saved | undefined = !values.fresh && existsSync(STATE_FILE) ? (JSON.parse(readFileSync(STATE_FILE, "utf8")) as Saved) : undefined;
  const rankingOff = [...off, ...(model.modelSummaries ? [] : ["model-summaries"])];
  const vars: Record<string, string> = {
    WINKY_RANKING_OFF: rankingOff.join(","),
    MODEL_SUMMARIES: model.modelSummaries ? "on" : "off",
    ...((model.modelSummaries || model.rerank) && !keyInDevVars ? { ANTHROPIC_API_KEY: process.env.ANTHROPIC_API_KEY as string } : {}),
    ...(process.env.ANTHROPIC_BASE_URL && (model.modelSummaries || model.rerank) ? { ANTHROPIC_BASE_URL: process.env.ANTHROPIC_BASE_URL } : {}),
  };
  const server = await startLocalServer(Number(values.port ?? 8795), join(DIR, "state"), {
    ...(saved ? { reuse: { token: saved.token, orgId: saved.orgId } } : {}),
    vars,
  });
  const state: Saved = saved ?? { token: server.token, orgId: server.orgId, projects: {} };
  // A full run assembles over a billion tokens, past the default daily quota.
  await liftQuotas(server);
  if (model.modelSummaries)
    await server.call(`/api/orgs/${state.orgId}/settings`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ modelSummaries: "on", summaryBudgetUsd: Number(values["summary-budget"] ?? 2) }),
    });
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 1));
  const results: CaseResult[] = [];
  writeFileSync(RESULTS_FILE, "");
  const cache: BaselineCache = !values.fresh && existsSync(BASELINE_FILE) ? (JSON.parse(readFileSync(BASELINE_FILE, "utf8")) as BaselineCache) : {};
  try {
    for (const c of cases) {
      const r = await runCase(server, state, c, dirs.get(c.repo) as string, budgets, {
        debug: values.debug ?? false,
        explain,
        baseline: !values["no-baseline"],
        cache,
        ...model,
      });
      writeFileSync(BASELINE_FILE, JSON.stringify(cache));
      if (typeof r === "string") {
        skip(r);
        continue;
      }
      results.push(r);
      writeFileSync(RESULTS_FILE, `${JSON.stringify(r)}\n`, { flag: "a" });
      console.log(
        `${r.id} ${(r.tokens / 1e6).toFixed(1)}M | ${r.budgets.map((b) => `${b.budget / 1000}k ${b.found ? "✓" : "·"}${b.hunks ? "✓" : "·"}${b.baseline ? "b" : "·"} ${b.serverMs.toFixed(0)}ms`).join(" | ")}`,
      );
    }
  } finally {
    server.stop();
  }
  const section = report(results, budgets, skipped, !values["no-baseline"]);
  const costs = modelLines(results, budgets, model);
  console.log([...section, "", ...costs].join("\n"));
  if (!values.write) return;
  const group = {
    title: "## Retrieval on real bug reports (issue 13): `npm run eval`",
    intro: "Written by `npm run eval -- --write …` (data sets and repositories brought in for the run, never committed).",
  };
  const switches = [...(model.modelSummaries ? ["model-summaries"] : []), ...(model.rerank ? ["rerank"] : [])];
  if (switches.length > 0) {
    const all = section.find((l) => l.startsWith("| **all**")) ?? "";
    writeSection(
      `eval:reports:with:${[...switches, ...off.map((f) => `no-${f}`)].join("+")}`,
      [
        `With ${switches.map((f) => `\`--${f}\``).join(" + ")}${off.length ? `, without ${off.join(" + ")}` : ""} (${new Date().toISOString().slice(0, 10)}, ${results.length} cases, model ${process.env.SMALL_MODEL ?? "claude-haiku-4-5"}):`,
        "",
        section[4] ?? "",
        section[5] ?? "",
        all,
        "",
        ...costs,
      ],
      group,
    );
  } else if (off.length === 0) writeSection("eval:reports", section, group);
  else {
    const all = section.find((l) => l.startsWith("| **all**")) ?? "";
    writeSection(
      `eval:reports:off:${off.join("+")}`,
      [
        `Without ${off.map((f) => `\`${f}\``).join(" + ")} (${new Date().toISOString().slice(0, 10)}, ${results.length} cases):`,
        "",
        section[4] ?? "",
        section[5] ?? "",
        all,
      ],
      group,
    );
  }
}

await main();
