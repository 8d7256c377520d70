/**
 * npm run bench:ab -- <commit> [--budgets 13000,500000] [--rounds 4]: this tree's assembly time against another
 * commit's, on the 1M bench corpus with the bench's 40 bug reports, through two local servers at once, one request
 * to each in turn (which goes first alternating by round). A whole `npm run bench` run moves by tens of ms with
 * the host's speed; served side by side, both trees meet the same host, so a change of a few ms shows. The other
 * commit is checked out in a temporary worktree that shares this tree's node_modules (its package-lock must
 * match) and built (`npm run build`). Prints, per budget and tree, p50 / p95 of the client's time, the Worker's
 * own (its Server-Timing) and pack, and how many pairs of answers hold the same pieces up to the shorter one's
 * last (the two projects' ids tokenize apart, so the room left, and with it the last piece, may differ). Writes
 * nothing.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildCorpus } from "./corpus";
import { createProject, ingestArchive, type LocalServer, startLocalServer, workerMs } from "./local-server";
import { benchReports } from "./soak/bug-report";
import { percentile } from "./stats";

const PROMPTS = 40;
const PORTS = [8851, 8852] as const;
const INSPECTOR_PORTS = [9351, 9352] as const;

type Assembled = { timings: Record<string, number>; contextPieces: Record<string, unknown>[] };
type Side = { label: string; server: LocalServer; projectId: string; client: number[]; worker: number[]; pack: number[] };

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { budgets: { type: "string", default: "13000,500000" }, rounds: { type: "string", default: "4" } },
  });
  const ref = positionals[0];
  if (!ref) throw new Error("usage: npm run bench:ab -- <commit> [--budgets 13000,500000] [--rounds 4]");
  const budgets = values.budgets.split(",").map(Number);
  const rounds = Number(values.rounds);
  if (budgets.some((b) => !Number.isInteger(b) || b < 4096) || !Number.isInteger(rounds) || rounds < 1)
    throw new Error("--budgets are whole token counts of at least 4096, --rounds a whole number of at least 1");
  const here = process.cwd();
  const commit = execFileSync("git", ["rev-parse", "--verify", `${ref}^{commit}`], { encoding: "utf8" }).trim();
  const scratch = mkdtempSync(join(tmpdir(), "bench-ab-"));
  const other = join(scratch, "tree");
  execFileSync("git", ["worktree", "add", "--detach", other, commit], { stdio: "ignore" });
  const servers: LocalServer[] = [];
  try {
    symlinkSync(resolve(here, "node_modules"), join(other, "node_modules"));
    // The Worker serves the web console's build (dist/console), which a checkout does not hold.
    execFileSync("node", ["scripts/build.mjs"], { cwd: other, stdio: "ignore" });
    const corpus = buildCorpus(1_000_000);
    const sides: Side[] = [];
    const trees: [label: string, cwd: string][] = [
      [commit.slice(0, 7), other],
      ["this tree", here],
    ];
    for (const [i, [label, cwd]] of trees.entries()) {
      const server = await startLocalServer(PORTS[i] as number, join(scratch, `state-${i}`), {
        cwd,
        inspectorPort: INSPECTOR_PORTS[i] as number,
        vars: { RATE_LIMIT_PER_MINUTE: "1000000" },
      });
      servers.push(server);
      const projectId = await createProject(server, "bench-ab");
      const { job } = await ingestArchive(server, projectId, corpus.archive);
      if (job.status !== "done") throw new Error(`${label}: the ingest ended ${job.status}`);
      sides.push({ label, server, projectId, client: [], worker: [], pack: [] });
    }
    const prompts = benchReports(corpus.files, PROMPTS);
    for (const budget of budgets) {
      const assemble = (side: Side, prompt: string): Promise<Assembled> =>
        side.server.call<Assembled>("/api/context/assemble", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ projectId: side.projectId, prompt, budget }),
        });
      for (const side of sides) {
        side.client = [];
        side.worker = [];
        side.pack = [];
        for (const p of prompts.slice(0, 3)) await assemble(side, p);
      }
      let same = 0;
      for (let round = 0; round < rounds; round++)
        for (const prompt of prompts) {
          const pieces: string[][] = [];
          for (const side of round % 2 ? [...sides].reverse() : sides) {
            const answer = await assemble(side, prompt);
            side.client.push(side.server.lastMs ?? Number.NaN);
            side.worker.push(workerMs(side.server));
            side.pack.push(answer.timings.pack ?? 0);
            pieces.push(answer.contextPieces.map(({ chunkId: _, ...rest }) => JSON.stringify(rest)));
          }
          const [a = [], b = []] = pieces;
          const upTo = Math.min(a.length, b.length) - 1;
          if (a.slice(0, upTo).every((p, i) => p === b[i])) same++;
        }
      for (const s of sides) {
        const cell = (xs: number[]): string => `${percentile(xs, 50).toFixed(0)} / ${percentile(xs, 95).toFixed(0)} ms`;
        console.log(`${budget / 1000}k ${s.label}: client ${cell(s.client)}, Worker ${cell(s.worker)}, pack ${cell(s.pack)}`);
      }
      console.log(`${budget / 1000}k: ${same} of ${rounds * prompts.length} pairs of answers hold the same pieces up to the shorter one's last`);
    }
  } finally {
    for (const s of servers) s.stop();
    execFileSync("git", ["worktree", "remove", "--force", other], { stdio: "ignore" });
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
