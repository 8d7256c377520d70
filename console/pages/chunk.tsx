/** A chunk's source with line numbers; the cited lines highlighted and scrolled into view. */
import { useEffect, useRef } from "preact/hooks";
import type { WinkyClient } from "../../src/client";
import { ErrorBox } from "../components/error-box";
import { useLoad } from "../components/use-load";
import { tokens } from "../lib/format";
import { href } from "../lib/route";

export function ChunkPage({
  client,
  projectId,
  chunkId,
  lines,
}: {
  client: WinkyClient;
  projectId: string;
  chunkId: string;
  lines: [number, number] | undefined;
}) {
  const chunk = useLoad(() => client.chunks.get(chunkId), [client, chunkId]);
  const firstHighlighted = useRef<HTMLTableRowElement>(null);
  useEffect(() => {
    firstHighlighted.current?.scrollIntoView({ block: "center" });
  }, [chunk.value, lines?.[0]]);
  const c = chunk.value;
  const textLines = c ? c.text.replace(/\n$/, "").split("\n") : [];
  const isCited = (n: number) => lines !== undefined && n >= lines[0] && n <= lines[1];
  return (
    <main class="stack">
      <p class="muted">
        <a href={href.project(projectId)}>← project</a> · <a href={href.inspect(projectId)}>inspector</a>
      </p>
      {chunk.error ? <ErrorBox error={chunk.error} /> : null}
      {c ? (
        <>
          <h1 class="mono" style={{ wordBreak: "break-all" }}>
            {c.path}:{c.startLine}-{c.endLine}
          </h1>
          <p class="row muted">
            <span class="mono">{c.chunkId}</span>
            <span>{tokens(c.tokenCount)} tokens</span>
            <span>{c.type}</span>
            {c.encoding ? <span>decoded from {c.encoding}</span> : null}
            {lines ? (
              <span>
                cited lines {lines[0]}–{lines[1]}
              </span>
            ) : null}
          </p>
          {c.superseded ? (
            <p class="badge warn">
              This chunk was replaced by a later ingest.{" "}
              {c.current?.chunkIds[0] ? <a href={href.chunk(projectId, c.current.chunkIds[0])}>Open the current version</a> : null}
            </p>
          ) : c.secrets.length ? (
            <p class="badge bad">Secret findings: {c.secrets.map((s) => `${s.ruleId} (lines ${s.startLine}–${s.endLine})`).join(", ")}</p>
          ) : null}
          <div class="source" data-testid="source">
            <table>
              <tbody>
                {textLines.map((text, i) => {
                  const n = c.startLine + i;
                  const hl = isCited(n);
                  const first = hl && (n === lines?.[0] || n === c.startLine);
                  return (
                    <tr key={n} class={hl ? "hl" : undefined} data-line={n} ref={first ? firstHighlighted : undefined} aria-current={hl ? "true" : undefined}>
                      <td class="ln">{n}</td>
                      <td>{text}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      ) : chunk.loading ? (
        <p class="muted">Loading the source…</p>
      ) : null}
    </main>
  );
}
