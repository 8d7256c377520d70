/**
 * npm run smoke: the Worker as wrangler bundles and serves it (not as the test pool loads it) — starts
 * `wrangler dev` on fresh state, ingests this repository's src/ through the CLI's packer, assembles a
 * context and checks the answer. Catches what only the real bundle shows (module-load errors, WASM
 * imports, bindings).
 */
import { packDirectory } from "../cli/pack-directory";
import { createProject, ingestArchive, startLocalServer } from "./local-server";

const server = await startLocalServer(Number(process.env.SMOKE_PORT ?? 8797), ".smoke/state");
try {
  const projectId = await createProject(server, "smoke");
  const packed = await packDirectory("src");
  const { job } = await ingestArchive(server, projectId, packed.archive);
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
} finally {
  server.stop();
}
