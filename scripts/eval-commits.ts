/**
 * npm run eval:commits -- <path to a git repository> [--commits N] [--budgets 16000,32000,...]
 *
 * Replays a repository's own history: for each of the last N commits that change a few existing files
 * and carry a real message, it ingests the tree before the commit into a local server, asks for
 * context with the commit message as the prompt, and counts how many of the commit's changed files
 * the assembled context contains (as chunks, not summaries), at each budget. A plain baseline runs
 * beside it: BM25 over whole files, packed in rank order. Results go to docs/benchmarks.md.
 */
import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_MODEL } from "../src/lib/model/anthropic-adapter";
import { writeSection } from "./benchmarks-doc";
import { Bm25Files } from "./eval/bm25-baseline";
import { fileTokens, git, gitDirOf, treeAt } from "./eval/repo-tree";
import { createProject, ingestArchive, startLocalServer } from "./local-server";

const DEFAULT_BUDGETS = [16_000, 32_000, 64_000, 128_000, 500_000];
const MODEL = DEFAULT_MODEL;

type Commit = { sha: string; message: string; targets: string[] };

/** Recent commits that modify 1-5 existing files (at most 8 touched in all) and have a descriptive message. */
function pickCommits(dir: string, wanted: number, scan: number): Commit[] {
  const log = git(dir, ["log", "--no-merges", `-n${scan}`, "--format=%H%x00%B%x1e", "HEAD"]).toString("utf8");
  const out: Commit[] = [];
  for (const entry of log.split("\x1e")) {
    const [sha, ...rest] = entry.trim().split("\x00");
    if (!sha || sha.length < 40) continue;
    const message = rest.join("").trim();
    const subject = message.split("\n")[0] ?? "";
    if (subject.split(/\s+/).length < 4 || /^(merge|bump|release|revert|version|v?\d+\.\d+|update (changelog|readme|deps|dependencies))/i.test(subject))
      continue;
    let status: string;
    try {
      status = git(dir, ["diff-tree", "--no-commit-id", "--name-status", "-r", "-M", sha]).toString("utf8");
    } catch {
      continue; // root commit
    }
    const lines = status.trim().split("\n").filter(Boolean);
    const targets = lines.flatMap((l) => {
      const [kind, from] = l.split("\t");
      return kind === "M" || kind?.startsWith("R") || kind === "D" ? [from as string] : [];
    });
    if (targets.length < 1 || targets.length > 5 || lines.length > 8) continue;
    out.push({ sha, message, targets });
    if (out.length >= wanted) break;
  }
  return out.reverse();
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      debug: { type: "boolean" },
      commits: { type: "string" },
      budgets: { type: "string" },
      scan: { type: "string" },
      port: { type: "string" },
      name: { type: "string" },
    },
  });
  const repo = positionals[0];
  if (!repo) throw new Error("usage: npm run eval:commits -- <path to a git repository> [--commits N] [--budgets 16000,32000,...]");
  const dir = gitDirOf(repo);
  const name = values.name ?? basename(resolve(repo).replace(/\/(\.git|repo)$/, ""));
  const budgets = values.budgets ? values.budgets.split(",").map(Number) : DEFAULT_BUDGETS;
  const commits = pickCommits(dir, Number(values.commits ?? 20), Number(values.scan ?? 600));
  if (commits.length === 0) throw new Error("no commit in the scanned history qualifies");
  console.log(`${name}: ${commits.length} commits`);

  const server = await startLocalServer(Number(values.port ?? 8798), `.eval/state-${name}`);
  const hits = budgets.map(() => ({ pipeline: 0, baseline: 0 }));
  let total = 0;
  let treeTokens = 0;
  try {
    const projectId = await createProject(server, `eval-${name}`);
    for (const c of commits) {
      const { archive, files } = treeAt(dir, `${c.sha}^`);
      const bm25 = new Bm25Files(files);
      const baselineRanking = bm25.rank(c.message);
      const ingest = await ingestArchive(server, projectId, archive());
      if (ingest.job.status !== "done") throw new Error(`ingest of ${c.sha}^ ended ${ingest.job.status}: ${JSON.stringify(ingest.job.errors)}`);
      const indexed = new Set(files.map((f) => f.path));
      const targets = c.targets.filter((t) => indexed.has(t));
      if (targets.length === 0) continue;
      total += targets.length;
      treeTokens = files.reduce((n, f) => n + fileTokens(f), 0);
      const line: string[] = [];
      for (const [i, budget] of budgets.entries()) {
        const res = await server.call<{ contextPieces: { kind: string; sourcePath: string }[] }>("/api/context/assemble", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ projectId, prompt: c.message.slice(0, 20_000), budget, model: MODEL }),
        });
        const got = new Set(res.contextPieces.filter((p) => p.kind === "chunk").map((p) => p.sourcePath));
        if (values.debug && i === 0) {
          const seen: string[] = [];
          for (const p of res.contextPieces as { kind: string; sourcePath: string; tokenCount: number; reasons: string[] }[]) {
            if (p.kind === "chunk" && !seen.includes(p.sourcePath)) {
              seen.push(p.sourcePath);
              console.log(`   ${targets.includes(p.sourcePath) ? "*" : " "} ${p.sourcePath} ${p.tokenCount} [${p.reasons.join(", ")}]`);
            }
          }
          console.log(`   targets: ${targets.join(", ")}; baseline: ${[...Bm25Files.pack(baselineRanking, budget)].slice(0, 6).join(", ")}`);
        }
        const base = Bm25Files.pack(baselineRanking, budget);
        const h = hits[i] as { pipeline: number; baseline: number };
        h.pipeline += targets.filter((t) => got.has(t)).length;
        h.baseline += targets.filter((t) => base.has(t)).length;
        line.push(`${budget / 1000}k ${targets.filter((t) => got.has(t)).length}/${targets.filter((t) => base.has(t)).length}`);
      }
      console.log(`${c.sha.slice(0, 8)} ${targets.length} file(s) | ${line.join(" | ")} | ${c.message.split("\n")[0]?.slice(0, 60)}`);
    }
  } finally {
    server.stop();
  }
  const pct = (n: number): string => `${((100 * n) / Math.max(1, total)).toFixed(1)}%`;
  const head = git(dir, ["rev-parse", "--short", "HEAD"]).toString("utf8").trim();
  const rows = budgets.map((b, i) => {
    const h = hits[i] as { pipeline: number; baseline: number };
    return `| ${b.toLocaleString("en-US")} | ${h.pipeline}/${total} (${pct(h.pipeline)}) | ${h.baseline}/${total} (${pct(h.baseline)}) | ${h.pipeline > h.baseline ? "pipeline" : h.pipeline === h.baseline ? "tie" : "baseline"} |`;
  });
  const section = [
    `### ${name}`,
    "",
    `${commits.length} commits before ${head} (${new Date().toISOString().slice(0, 10)}); latest tree ≈ ${treeTokens.toLocaleString("en-US")} tokens (${MODEL} estimate). Recall of changed files found as chunks in the assembled context:`,
    "",
    "| budget | pipeline | baseline (BM25 whole files) | better |",
    "| --- | --- | --- | --- |",
    ...rows,
  ];
  console.log(section.join("\n"));
  writeSection(`eval:${name}`, section, {
    title: "## Retrieval on commit messages (issue 3): `npm run eval:commits`",
    intro: "Each section is written by `npm run eval:commits -- <repo>` for one repository (fetched for the run, not committed).",
  });
}

await main();
