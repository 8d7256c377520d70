import { buildCorpus } from "./corpus";
import { createProject, ingestArchive, startLocalServer } from "./local-server";

const server = await startLocalServer(8797, ".bench/t-state");
try {
  const corpus = buildCorpus(1_000_000);
  const projectId = await createProject(server, "t");
  await ingestArchive(server, projectId, corpus.archive);
  const post = <T>(path: string, body: unknown): Promise<T> =>
    server.call<T>(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  for (let i = 0; i < 8; i++) {
    const f = corpus.files[i * 40] as { path: string; text: string };
    const name = /(?:function|class)\s+([A-Za-z_$][\w$]{3,})/.exec(f.text)?.[1] ?? "main";
    const prompt = `Change ${name} in ${f.path.split("/").pop()} so that it validates its input`;
    const { sessionId } = await post<{ sessionId: string }>("/api/sessions", { projectId });
    const { sessionId: s2 } = await post<{ sessionId: string }>("/api/sessions", { projectId });
    for (const [label, sid, p] of [
      ["first", sessionId, prompt],
      ["warm", sessionId, prompt + " and tests"],
      ["cold", s2, prompt + " and tests"],
    ]) {
      const t0 = performance.now();
      const r = await post<{ timings: Record<string, number> }>(`/api/sessions/${sid}/assemble`, { prompt: p, budget: 500_000 });
      const t = r.timings;
      console.log(
        label,
        (performance.now() - t0).toFixed(0),
        `idx=${t.total} pack=${t.pack} fill=${t.fill} keys=${t.keys?.toFixed(1)} rpc=${t.index?.toFixed(1)} compose=${t.compose?.toFixed(1)} use=${t.use?.toFixed(1)} n=${t.nkeys}`,
      );
    }
  }
} finally {
  server.stop();
}
