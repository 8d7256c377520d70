/**
 * npm run bench:session: session assembly through the hot window, measured from the client against the
 * real local server (wrangler dev). Each pair is a fresh session: a first request, then a follow-up on
 * the same files; both return the full 500k-token prompt text. Writes its section of docs/benchmarks.md.
 */
import { cpus } from "node:os";
import { writeSection } from "./benchmarks-doc";
import { buildCorpus } from "./corpus";
import { createProject, ingestArchive, startLocalServer } from "./local-server";
import { percentile } from "./stats";

const PORT = Number(process.env.BENCH_PORT ?? 8798);
const PAIRS = 20;

type Assembled = { tokenTotal: number; hotWindow: { reused: number; added: number } };

async function main(): Promise<void> {
  const corpus = buildCorpus(1_000_000);
  const server = await startLocalServer(PORT, ".bench/session-state");
  try {
    const projectId = await createProject(server, "bench-session");
    const ingest = await ingestArchive(server, projectId, corpus.archive);
    if (ingest.job.status !== "done") throw new Error(`ingest ${ingest.job.status}`);
    const post = <T>(path: string, body: unknown): Promise<T> =>
      server.call<T>(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const timed = async <T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> => {
      const t0 = performance.now();
      const value = await fn();
      return { ms: performance.now() - t0, value };
    };
    const files = corpus.files.filter((f) => /(?:function|class)\s+[A-Za-z_$][\w$]{3,}/.test(f.text));
    const first: number[] = [];
    const warm: number[] = [];
    const cold: number[] = [];
    const reused: number[] = [];
    const step = Math.max(1, Math.floor(files.length / (PAIRS + 3)));
    for (let i = 0; i < PAIRS + 3; i++) {
      const f = files[i * step] as { path: string; text: string };
      const name = /(?:function|class)\s+([A-Za-z_$][\w$]{3,})/.exec(f.text)?.[1] ?? "main";
      const file = f.path.split("/").pop() ?? f.path;
      const ask = { prompt: `Change ${name} in ${file} so that it validates its input`, budget: 500_000 };
      const follow = { ...ask, prompt: `Now add tests for ${name} in ${file}, covering the empty case` };
      const session = async () => (await post<{ sessionId: string }>("/api/sessions", { projectId })).sessionId;
      const [s1, s2] = [await session(), await session()];
      // The same follow-up with the window the first request filled, and in a fresh session (window
      // empty); the order alternates so neither always finds the index's pages warmer.
      const a = await timed(() => post<Assembled>(`/api/sessions/${s1}/assemble`, ask));
      const runWarm = () => timed(() => post<Assembled>(`/api/sessions/${s1}/assemble`, follow));
      const runCold = () => timed(() => post<Assembled>(`/api/sessions/${s2}/assemble`, follow));
      const [w, c] = i % 2 ? [await runWarm(), await runCold()] : [undefined, await runCold()];
      const wr = w ?? (await runWarm());
      if (wr.value.tokenTotal !== c.value.tokenTotal) throw new Error("the warm and cold follow-ups assembled different contexts");
      if (i < 3) continue; // warm-up
      first.push(a.ms);
      warm.push(wr.ms);
      cold.push(c.ms);
      reused.push(wr.value.hotWindow.reused / Math.max(1, wr.value.hotWindow.reused + wr.value.hotWindow.added));
    }
    const row = (label: string, xs: number[]) => `| ${label} | ${percentile(xs, 50).toFixed(0)} ms | ${percentile(xs, 95).toFixed(0)} ms |`;
    console.log(
      `first p50 ${percentile(first, 50).toFixed(0)} ms, follow-up warm p50 ${percentile(warm, 50).toFixed(0)} ms, cold ${percentile(cold, 50).toFixed(0)} ms`,
    );
    writeSection("bench:session", [
      "## Session assembly through the hot window (issue 5)",
      "",
      `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, through \`wrangler dev --local\` on loopback (\`npm run bench:session\`). The 1M-token corpus (${corpus.tokens.toLocaleString("en-US")} tokens); ${PAIRS} pairs after 3 warm-up ones. Each pair: a first request in a session, then a follow-up about the same definition in that session (its hot window filled by the first), and the same follow-up in a fresh session (window empty); all \`POST /api/sessions/:id/assemble\` with a 500,000-token budget. The session builds the whole prompt text each time (it is what a generation sends); the answers carry pieces, not text. The warm and cold follow-ups must assemble the same context (the tests check that the texts are identical).`,
      "",
      "| request | p50 | p95 |",
      "| --- | --- | --- |",
      row("first request (window empty)", first),
      row("follow-up, window filled by the first request", warm),
      row("same follow-up, fresh session (window empty)", cold),
      "",
      `Share of the follow-up's blocks served from the hot window: mean ${((reused.reduce((a, b) => a + b, 0) / reused.length) * 100).toFixed(0)} %. The project's index does not read those chunks' text and leaves their blocks out of its answer; the session fills them in from the window, so less is read, sent between the two objects and written to the window.`,
    ]);
  } finally {
    server.stop();
  }
}

await main();
