/**
 * npm run smoke: the Worker as wrangler bundles and serves it (not as the test pool loads it) — starts
 * `wrangler dev` on fresh state, ingests this repository's src/ through the CLI's packer, assembles a
 * context and checks the answer, then does the same in a session (the follow-up served partly from the
 * hot window) and asks for a generation's prompts (dryRun). Catches what only the real bundle shows
 * (module-load errors, WASM imports, bindings, Durable Object classes).
 */
import { readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { packDirectory } from "../cli/pack-directory";
import { createProject, ingestArchive, startLocalServer } from "./local-server";

const server = await startLocalServer(Number(process.env.SMOKE_PORT ?? 8797), ".smoke/state");
try {
  const projectId = await createProject(server, "smoke");
  const packed = await packDirectory("src");
  const archive = await readFile(packed.path);
  await rm(dirname(packed.path), { recursive: true, force: true });
  const { job } = await ingestArchive(server, projectId, archive);
  if (job.status !== "done" || job.files.total !== packed.files) throw new Error(`ingest: ${JSON.stringify(job)}`);
  const res = await server.call<{ tokenTotal: number; contextPieces: { kind: string; sourcePath: string; reasons: string[] }[] }>("/api/context/assemble", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ projectId, prompt: "change assembleContext so that it packs summaries first", budget: 16_000 }),
  });
  const top = res.contextPieces.find((p) => p.kind === "chunk");
  if (top?.sourcePath !== "lib/assembly/assemble.ts" || !top.reasons.includes("symbol definition"))
    throw new Error(`unexpected top piece: ${JSON.stringify(top)}`);
  if (res.tokenTotal > 16_000) throw new Error(`over budget: ${res.tokenTotal}`);
  console.log(`smoke: ${packed.files} files ingested, top piece ${top.sourcePath} [${top.reasons.join(", ")}], ${res.tokenTotal} tokens`);

  const post = <T>(path: string, body: unknown): Promise<T> =>
    server.call<T>(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const { sessionId } = await post<{ sessionId: string }>("/api/sessions", { projectId });
  const ask = (prompt: string) =>
    post<{ tokenTotal: number; hotWindow: { reused: number; added: number } }>(`/api/sessions/${sessionId}/assemble`, { prompt, budget: 16_000 });
  await ask("change assembleContext so that it packs summaries first");
  const followUp = await ask("and make assembleContext report the summaries it packed");
  if (followUp.hotWindow.reused === 0) throw new Error(`the follow-up reused nothing from the hot window: ${JSON.stringify(followUp.hotWindow)}`);
  const dry = await post<{ prompts: { plan: string; expand: string } }>("/api/ai/generate-prototype", {
    projectId,
    sessionId,
    prompt: "add a summary count to assembleContext",
    dryRun: true,
  });
  if (!dry.prompts.plan.startsWith("---SYSTEM---") || !dry.prompts.expand.includes("---USER_INSTRUCTION---"))
    throw new Error("dryRun prompts are not in the spec's layout");
  console.log(
    `smoke: session ${sessionId}: follow-up reused ${followUp.hotWindow.reused} blocks from the hot window; dryRun prompts ${dry.prompts.plan.length} and ${dry.prompts.expand.length} characters`,
  );
} finally {
  server.stop();
}
