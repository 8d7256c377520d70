/**
 * One generation's decision log (GET /api/generations/:id): every model call with its model, vendor,
 * tokens, cost and prompt fingerprint (the chunks it was sent link to their source), the trims,
 * segmentation, repairs and source requests with why, the verification and the claims check.
 */
import type { GenerationRecord, WinkyClient } from "../../src/client";
import { ErrorBox } from "../components/error-box";
import { useLoad } from "../components/use-load";
import { tokens, usd, when } from "../lib/format";
import { href } from "../lib/route";
import { statusBadge } from "./generations";

const DECISION_LABEL: Record<GenerationRecord["decisions"][number]["kind"], string> = {
  trim: "Trimmed",
  segmentation: "Segmented (fallback)",
  repair: "Repaired",
  sources: "Asked for sources",
};

export function GenerationPage({ client, projectId, generationId }: { client: WinkyClient; projectId: string; generationId: string }) {
  const record = useLoad(() => client.generations.get(generationId), [client, generationId]);
  const g = record.value;
  return (
    <main class="stack">
      <h1>Generation</h1>
      <p class="muted">
        <a href={href.generations(projectId)}>← generations</a> · <span class="mono">{generationId}</span>
      </p>
      {record.error ? <ErrorBox error={record.error} /> : null}
      {g ? <Record projectId={projectId} g={g} /> : record.loading ? <p class="muted">Loading the decision log…</p> : null}
    </main>
  );
}

function Record({ projectId, g }: { projectId: string; g: GenerationRecord }) {
  const verified = g.verification.at(-1)?.status ?? "not verified";
  return (
    <>
      <div class="row" data-testid="generation-summary">
        <div class="card">
          <div class="muted">Status</div>
          <span class={statusBadge(g.status)}>{g.status}</span>
        </div>
        <div class="card">
          <div class="muted">Model</div>
          <strong class="mono">{g.model}</strong> <span class="muted">({g.vendor})</span>
        </div>
        <div class="card">
          <div class="muted">Tokens in / out</div>
          <strong>
            {tokens(g.usage.inputTokens)} / {tokens(g.usage.outputTokens)}
          </strong>
        </div>
        <div class="card">
          <div class="muted">Cost</div>
          <strong>{usd(g.usage.costUsd)}</strong>
        </div>
        <div class="card">
          <div class="muted">Verification</div>
          <span class={statusBadge(verified)} data-testid="verification">
            {verified}
          </span>
        </div>
        <div class="card">
          <div class="muted">Claims</div>
          {g.claims ? (
            <span class={statusBadge(g.claims.status)} data-testid="claims">
              {g.claims.status.replace("_", " ")}
            </span>
          ) : (
            <span class="muted">not checked</span>
          )}
        </div>
      </div>
      <p class="muted">
        {when(g.createdAt)}
        {g.sessionId ? (
          <>
            {" "}
            · session <span class="mono">{g.sessionId}</span>
          </>
        ) : null}{" "}
        · {g.repairs} repairs{g.segmented ? " · segmented" : ""}
        {g.feedback ? ` · ${g.feedback.approved ? "approved" : "rejected"} ${when(g.feedback.at)}${g.feedback.note ? `: ${g.feedback.note}` : ""}` : ""}
      </p>
      {g.error ? <ErrorBox error={new Error(`${g.error.code}: ${g.error.message}`)} /> : null}

      <h2>Model calls</h2>
      {g.calls.length === 0 ? (
        <div class="empty">No model call was recorded.</div>
      ) : (
        <div class="table-wrap">
          <table data-testid="calls">
            <thead>
              <tr>
                <th>Pass</th>
                <th>Model</th>
                <th>Vendor</th>
                <th class="num">In</th>
                <th class="num">Out</th>
                <th class="num">Cost</th>
                <th>Prompt fingerprint</th>
                <th>Chunks sent</th>
              </tr>
            </thead>
            <tbody>
              {g.calls.map((c, i) => (
                <tr key={`${c.pass}:${i}`}>
                  <td>
                    {c.pass}
                    {c.longContext ? <span class="badge warn">1M context</span> : null}
                  </td>
                  <td class="mono nowrap">{c.model}</td>
                  <td>{c.vendor}</td>
                  <td class="num">{tokens(c.inputTokens)}</td>
                  <td class="num">{tokens(c.outputTokens)}</td>
                  <td class="num">{usd(c.costUsd)}</td>
                  <td class="mono hash" title={`SHA-256 of exactly what was sent: ${c.promptSha256}`}>
                    {c.promptSha256}
                  </td>
                  <td>
                    {c.chunks.length === 0 ? (
                      <span class="muted">none</span>
                    ) : (
                      <details>
                        <summary>{c.chunks.length}</summary>
                        <ul class="chunk-list">
                          {c.chunks.map((id) => (
                            <li key={id}>
                              <a class="mono" href={href.chunk(projectId, id)}>
                                {id}
                              </a>
                            </li>
                          ))}
                        </ul>
                      </details>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Decisions</h2>
      {g.decisions.length === 0 ? (
        <div class="empty">No trim, fallback, repair or source request: each pass was answered as first asked.</div>
      ) : (
        <ol class="decisions" data-testid="decisions">
          {g.decisions.map((d, i) => (
            <li key={i} data-kind={d.kind}>
              <strong>{DECISION_LABEL[d.kind]}</strong>
              {d.pass ? <span class="muted"> ({d.pass})</span> : null}: {d.reason}
            </li>
          ))}
        </ol>
      )}

      <h2>Verification</h2>
      {g.verification.length === 0 ? (
        <div class="empty">The change was not run in the sandbox.</div>
      ) : (
        <ol>
          {g.verification.map((v) => (
            <li key={v.runId}>
              <span class={statusBadge(v.status)}>{v.status}</span> <span class="mono muted">{v.runId}</span>
            </li>
          ))}
        </ol>
      )}

      {g.claims && g.claims.unsupported.length > 0 ? (
        <>
          <h2>Unsupported claims</h2>
          <ul data-testid="unsupported">
            {g.claims.unsupported.map((u, i) => (
              <li key={i}>
                <span class="muted">{u.pass}:</span> “{u.claim}” — {u.problem}
              </li>
            ))}
          </ul>
        </>
      ) : null}

      {g.changedPaths.length > 0 ? (
        <>
          <h2>Changed files</h2>
          <ul class="mono">
            {g.changedPaths.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </>
      ) : null}
      {g.warnings.length > 0 ? (
        <>
          <h2>Warnings</h2>
          <ul>
            {g.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </>
      ) : null}
    </>
  );
}
