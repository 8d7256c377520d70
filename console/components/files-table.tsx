/** A project's files with their outcome, token counts and secret findings (rule and lines; never a value). */
import type { ProjectFile } from "../../src/client";
import { bytes, tokens } from "../lib/format";
import { href } from "../lib/route";

function Outcome({ f }: { f: ProjectFile }) {
  if (f.status === "skipped")
    return (
      <span class="badge warn" title={f.skipDetail ?? undefined}>
        skipped: {f.skipReason ?? "unknown"}
      </span>
    );
  if (f.binary) return <span class="badge">binary</span>;
  if (f.linkTarget) return <span class="badge">link → {f.linkTarget}</span>;
  if (f.encoding && !/^utf-?8$/i.test(f.encoding)) return <span class="badge ok">indexed, decoded from {f.encoding}</span>;
  return <span class="badge ok">{f.status}</span>;
}

export function FilesTable({ projectId, files }: { projectId: string; files: ProjectFile[] }) {
  if (files.length === 0) return <div class="empty">No files yet. Drop a folder or an archive above to index it.</div>;
  return (
    <div class="table-wrap">
      <table data-testid="files">
        <thead>
          <tr>
            <th>Path</th>
            <th>Outcome</th>
            <th class="num">Tokens</th>
            <th class="num">Size</th>
            <th>Secrets</th>
          </tr>
        </thead>
        <tbody>
          {files.map((f) => (
            <tr key={f.path}>
              <td class="mono">
                {f.chunkIds[0] ? <a href={href.chunk(projectId, f.chunkIds[0])}>{f.path}</a> : f.path}
                {f.skipDetail ? <div class="muted">{f.skipDetail}</div> : null}
              </td>
              <td>
                <Outcome f={f} />
              </td>
              <td class="num">{tokens(f.tokenCount)}</td>
              <td class="num">{bytes(f.sizeBytes)}</td>
              <td>
                {f.secrets.length === 0 ? (
                  <span class="muted">none</span>
                ) : (
                  <ul style={{ margin: 0, paddingLeft: "1rem" }}>
                    {f.secrets.map((s) => (
                      <li key={`${s.ruleId}:${s.startLine}`}>
                        <span class="badge bad">{s.ruleId}</span> lines {s.startLine}–{s.endLine}
                      </li>
                    ))}
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
