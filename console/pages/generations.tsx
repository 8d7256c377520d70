/**
 * A project's generations, newest first (GET /api/generations?projectId=&from=&to=): when, status, model,
 * calls, tokens, cost and the claims check, each opening its decision log. The dates are whole UTC days.
 */
import { useState } from "preact/hooks";
import type { GenerationSummary, WinkyClient } from "../../src/client";
import { ErrorBox } from "../components/error-box";
import { useLoad } from "../components/use-load";
import { tokens, usd, when } from "../lib/format";
import { href } from "../lib/route";

type Range = { from: string; to: string };

/** The query of a day range: from the start of `from` to the end of `to`, UTC; an empty day is no bound. */
export function rangeQuery(range: Range): { from?: string; to?: string } {
  return {
    ...(range.from ? { from: `${range.from}T00:00:00.000Z` } : {}),
    ...(range.to ? { to: `${range.to}T23:59:59.999Z` } : {}),
  };
}

export function statusBadge(status: string): string {
  if (status === "done" || status === "passed" || status === "supported") return "badge ok";
  if (status === "failed" || status === "unsupported_claims" || status === "error") return "badge bad";
  return "badge warn";
}

async function pageOf(client: WinkyClient, projectId: string, range: Range, cursor?: string) {
  return client.generations.list({ projectId, ...rangeQuery(range), ...(cursor ? { cursor } : {}) });
}

export function GenerationsPage({ client, projectId }: { client: WinkyClient; projectId: string }) {
  const [draft, setDraft] = useState<Range>({ from: "", to: "" });
  const [range, setRange] = useState<Range>({ from: "", to: "" });
  const [more, setMore] = useState<{ rows: GenerationSummary[]; cursor: string | null } | undefined>(undefined);
  const [moreError, setMoreError] = useState<unknown>(undefined);
  const first = useLoad(() => pageOf(client, projectId, range), [client, projectId, range.from, range.to]);
  const rows = [...(first.value?.generations ?? []), ...(more?.rows ?? [])];
  const cursor = more ? more.cursor : (first.value?.nextCursor ?? null);

  const apply = (e: Event) => {
    e.preventDefault();
    setMore(undefined);
    setRange(draft);
  };
  const loadMore = async () => {
    if (!cursor) return;
    try {
      const page = await pageOf(client, projectId, range, cursor);
      setMore({ rows: [...(more?.rows ?? []), ...page.generations], cursor: page.nextCursor ?? null });
    } catch (err) {
      setMoreError(err);
    }
  };

  return (
    <main class="stack">
      <h1>Generations</h1>
      <p class="muted">
        <a href={href.project(projectId)}>← project</a> · every model call, decision and verification of this project's generations
      </p>
      <form class="row card" onSubmit={apply} aria-label="filter by date">
        <label>
          From <input type="date" name="from" value={draft.from} onInput={(e) => setDraft({ ...draft, from: e.currentTarget.value })} />
        </label>
        <label>
          To <input type="date" name="to" value={draft.to} onInput={(e) => setDraft({ ...draft, to: e.currentTarget.value })} />
        </label>
        <button type="submit">Filter</button>
        <span class="muted">UTC days; leave empty for no bound</span>
      </form>
      {first.error ? <ErrorBox error={first.error} /> : null}
      {first.value && rows.length === 0 ? (
        <div class="empty">
          No generations {range.from || range.to ? "in these days" : "yet"}. Run one from the <a href={href.session(projectId)}>session page</a>.
        </div>
      ) : null}
      {rows.length > 0 ? (
        <div class="table-wrap">
          <table data-testid="generations">
            <thead>
              <tr>
                <th>When</th>
                <th>Status</th>
                <th>Model</th>
                <th class="num">Calls</th>
                <th class="num">In</th>
                <th class="num">Out</th>
                <th class="num">Cost</th>
                <th>Claims</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((g) => (
                <tr key={g.id}>
                  <td>
                    <a href={href.generation(projectId, g.id)}>{when(g.createdAt)}</a>
                  </td>
                  <td>
                    <span class={statusBadge(g.status)}>{g.status}</span>
                  </td>
                  <td class="mono">{g.model}</td>
                  <td class="num">{g.calls}</td>
                  <td class="num">{tokens(g.usage.inputTokens)}</td>
                  <td class="num">{tokens(g.usage.outputTokens)}</td>
                  <td class="num">{usd(g.usage.costUsd)}</td>
                  <td>{g.claims ? <span class={statusBadge(g.claims)}>{g.claims.replace("_", " ")}</span> : <span class="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : first.loading ? (
        <p class="muted">Loading generations…</p>
      ) : null}
      {moreError ? <ErrorBox error={moreError} /> : null}
      {cursor ? (
        <div>
          <button type="button" onClick={loadMore}>
            Load more
          </button>
        </div>
      ) : null}
    </main>
  );
}
