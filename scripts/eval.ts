/**
 * npm run eval -- <path to a git repository> [--commits N] [--budgets 16000,32000,...]
 *
 * Replays a repository's own history: for each of the last N commits that change a few existing files
 * and carry a real message, it ingests the tree before the commit into a local server, asks for
 * context with the commit message as the prompt, and counts how many of the commit's changed files
 * the assembled context contains (as chunks, not summaries), at each budget. A plain baseline runs
 * beside it: BM25 over whole files, packed in rank order. Results go to docs/benchmarks.md.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { DEFAULT_ARCHIVE_LIMITS, type TarFile, writeTar } from "../src/lib/archive";
import { safetyMargin } from "../src/lib/assembly/assemble";
import { buildIgnoreRules, decodeFile } from "../src/lib/chunker";
import { DEFAULT_MODEL } from "../src/lib/model/anthropic-adapter";
import { queryTerms, termsOf } from "../src/lib/retrieval/terms";
import { countTokens } from "../src/lib/tokenizer";
import { writeSection } from "./benchmarks-doc";
import { createProject, ingestArchive, startLocalServer } from "./local-server";

const DEFAULT_BUDGETS = [16_000, 32_000, 64_000, 128_000, 500_000];
const MODEL = DEFAULT_MODEL;

type Commit = { sha: string; message: string; targets: string[] };

function git(dir: string, args: string[], input?: string): Buffer {
  return execFileSync("git", ["--git-dir", dir, ...args], { maxBuffer: 1 << 30, ...(input !== undefined ? { input } : {}) });
}

function gitDirOf(path: string): string {
  const p = resolve(path);
  return existsSync(join(p, ".git")) ? join(p, ".git") : p;
}

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

type TreeFile = { path: string; text: string };

/**
 * A commit's tree as the CLI would upload it (regular files only: symbolic links and submodules are
 * left out, as \`winky ingest\` does), and its indexable text files as the server sees them.
 */
async function treeAt(dir: string, rev: string): Promise<{ archive: Buffer; files: TreeFile[] }> {
  const entries = git(dir, ["ls-tree", "-r", "-z", rev])
    .toString("utf8")
    .split("\0")
    .filter(Boolean)
    .map((l) => {
      const [info, path] = l.split("\t");
      const [mode, type, oid] = (info ?? "").split(" ");
      return { mode, type, oid: oid ?? "", path: path ?? "" };
    })
    .filter((e) => e.type === "blob" && (e.mode === "100644" || e.mode === "100755"));
  const batch = git(dir, ["cat-file", "--batch"], `${entries.map((e) => e.oid).join("\n")}\n`);
  const blobs: TarFile[] = [];
  let at = 0;
  for (const e of entries) {
    const nl = batch.indexOf(10, at);
    const size = Number(batch.subarray(at, nl).toString("utf8").split(" ")[2]);
    blobs.push({ path: e.path, bytes: new Uint8Array(batch.subarray(nl + 1, nl + 1 + size)) });
    at = nl + 1 + size + 1;
  }
  const gitignores: { dir: string; text: string }[] = [];
  const raw: TreeFile[] = [];
  for (const b of blobs) {
    if (b.bytes.byteLength > DEFAULT_ARCHIVE_LIMITS.maxFileBytes) continue;
    const d = decodeFile(b.path, b.bytes);
    if (d.kind !== "text") continue;
    if (b.path === ".gitignore" || b.path.endsWith("/.gitignore"))
      gitignores.push({ dir: b.path.slice(0, Math.max(0, b.path.lastIndexOf("/"))), text: d.text });
    raw.push({ path: b.path, text: d.text });
  }
  const rules = buildIgnoreRules(gitignores);
  // Non-UTF-8 files would make the server refuse the upload; they are not indexable anyway.
  const uploadable = blobs.filter((b) => decodeFile(b.path, b.bytes).kind !== "invalid-utf8");
  return { archive: gzipSync(writeTar(uploadable)), files: raw.filter((f) => !rules.isIgnored(f.path)) };
}

const tokenCache = new Map<string, number>();
function fileTokens(f: TreeFile): number {
  const key = `${f.path}\0${f.text.length}\0${f.text.slice(0, 64)}`;
  let n = tokenCache.get(key);
  if (n === undefined) {
    n = countTokens(f.text, MODEL);
    tokenCache.set(key, n);
  }
  return n;
}

/** Baseline: BM25 (k1 1.2, b 0.75) over whole files, packed greedily in rank order under the budget. */
function baselinePaths(files: TreeFile[], prompt: string, budget: number): Set<string> {
  const q = queryTerms(prompt);
  const docs = files.map((f) => {
    const tf = new Map<string, number>();
    const terms = termsOf(`${f.path.replace(/[/.\\-]/g, " ")}\n${f.text}`);
    for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
    return { f, tf, len: terms.length };
  });
  const avg = docs.reduce((n, d) => n + d.len, 0) / Math.max(1, docs.length);
  const df = new Map<string, number>();
  for (const t of q) df.set(t, docs.filter((d) => d.tf.has(t)).length);
  const scored = docs
    .map((d) => {
      let s = 0;
      for (const t of q) {
        const n = d.tf.get(t) ?? 0;
        if (n === 0) continue;
        const idf = Math.log(1 + (docs.length - (df.get(t) ?? 0) + 0.5) / ((df.get(t) ?? 0) + 0.5));
        s += (idf * n * 2.2) / (n + 1.2 * (0.25 + (0.75 * d.len) / avg));
      }
      return { path: d.f.path, f: d.f, s };
    })
    .filter((d) => d.s > 0)
    .sort((a, b) => b.s - a.s);
  const limit = budget - safetyMargin(budget);
  let used = 0;
  const out = new Set<string>();
  for (const d of scored) {
    const cost = fileTokens(d.f) + 20; // the file plus its source line
    if (used + cost > limit) continue;
    used += cost;
    out.add(d.path);
  }
  return out;
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
  if (!repo) throw new Error("usage: npm run eval -- <path to a git repository> [--commits N] [--budgets 16000,32000,...]");
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
      const { archive, files } = await treeAt(dir, `${c.sha}^`);
      const ingest = await ingestArchive(server, projectId, archive);
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
          console.log(`   targets: ${targets.join(", ")}; baseline: ${[...baselinePaths(files, c.message, budget)].slice(0, 6).join(", ")}`);
        }
        const base = baselinePaths(files, c.message, budget);
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
    title: "## Retrieval quality (issue 3): `npm run eval`",
    intro: "Each section is written by `npm run eval -- <repo>` for one repository (fetched for the run, not committed).",
  });
}

await main();
