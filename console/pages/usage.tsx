/** The org's usage by day, project and model (GET /api/usage), against its quotas when the key may read them. */
import type { UsageRow, WinkyClient } from "../../src/client";
import { BarChart } from "../components/bar-chart";
import { ErrorBox } from "../components/error-box";
import { useLoad } from "../components/use-load";
import { tokens, usd } from "../lib/format";

function byDay(rows: UsageRow[], pick: (r: UsageRow) => number): { label: string; value: number }[] {
  const days = new Map<string, number>();
  for (const r of rows) days.set(r.day, (days.get(r.day) ?? 0) + pick(r));
  return [...days.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([label, value]) => ({ label, value }));
}

export function UsagePage({ client }: { client: WinkyClient }) {
  const usage = useLoad(() => client.usage(), [client]);
  const u = usage.value;
  return (
    <main class="stack">
      <h1>Usage</h1>
      {usage.error ? <ErrorBox error={usage.error} /> : null}
      {u ? (
        <>
          <p class="muted">
            {u.from} to {u.to}
          </p>
          <div class="row">
            <div class="card">
              <div class="muted">Spend</div>
              <strong>{usd(u.totals.costUsd)}</strong>
            </div>
            <div class="card">
              <div class="muted">Tokens assembled</div>
              <strong>{tokens(u.totals.tokensAssembled)}</strong>
            </div>
            <div class="card">
              <div class="muted">Requests</div>
              <strong>{tokens(u.totals.requests)}</strong>
            </div>
            <div class="card">
              <div class="muted">Sandbox minutes</div>
              <strong>{u.totals.sandboxMinutes.toFixed(1)}</strong>
            </div>
          </div>
          <div class="grid2">
            <BarChart title="Spend by day" points={byDay(u.rows, (r) => r.costUsd)} format={usd} />
            <BarChart title="Tokens assembled by day" points={byDay(u.rows, (r) => r.tokensAssembled)} />
          </div>
          <h2>By day, project and model</h2>
          {u.rows.length === 0 ? (
            <div class="empty">No usage recorded in this period.</div>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Day</th>
                    <th>Project</th>
                    <th>Model</th>
                    <th class="num">Tokens</th>
                    <th class="num">Requests</th>
                    <th class="num">Spend</th>
                  </tr>
                </thead>
                <tbody>
                  {u.rows.map((r) => (
                    <tr key={`${r.day}:${r.projectId}:${r.model}:${r.keyId}`}>
                      <td>{r.day}</td>
                      <td class="mono">{r.projectId ?? "—"}</td>
                      <td class="mono">{r.model ?? "—"}</td>
                      <td class="num">{tokens(r.tokensAssembled)}</td>
                      <td class="num">{tokens(r.requests)}</td>
                      <td class="num">{usd(r.costUsd)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      ) : usage.loading ? (
        <p class="muted">Loading usage…</p>
      ) : null}
    </main>
  );
}
