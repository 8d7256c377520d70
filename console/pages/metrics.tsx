/**
 * The spec's metrics (GET /api/metrics): assembly latency, utilization, hot-window hit rate, tokens and
 * cost per model call, error rate and retrieval recall, as totals and by day, for the org or one project.
 * A key limited to projects cannot read the org's: it starts on its first project (the key's, from whoami).
 */
import { useState } from "preact/hooks";
import type { MetricsDay, WinkyClient } from "../../src/client";
import { BarChart } from "../components/bar-chart";
import { ErrorBox } from "../components/error-box";
import { useLoad } from "../components/use-load";
import { compact, percent, usd } from "../lib/format";

const ms = (n: number): string => `${n.toFixed(n < 10 ? 1 : 0)} ms`;
const orNone = (n: number | null | undefined, format: (n: number) => string): string => (n === null || n === undefined ? "—" : format(n));

function series(days: MetricsDay[], pick: (d: MetricsDay) => number | null): { label: string; value: number }[] {
  return days.map((d) => ({ label: d.day, value: pick(d) ?? 0 }));
}

function Card({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div class="card" data-testid={testId}>
      <div class="muted">{label}</div>
      <strong>{value}</strong>
    </div>
  );
}

export function MetricsPage({ client }: { client: WinkyClient }) {
  const whoami = useLoad(() => client.whoami(), [client]);
  const projects = useLoad(() => client.projects.listAll(), [client]);
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const limitedTo = whoami.value?.projectIds ?? null;
  // "" is the whole org; a limited key has no such choice.
  const projectId = chosen ?? (limitedTo ? (limitedTo[0] ?? "") : "");
  const ready = whoami.value !== undefined;
  const metrics = useLoad(() => (ready ? client.metrics(projectId ? { projectId } : {}) : new Promise<never>(() => {})), [client, ready, projectId]);
  const m = metrics.value;
  const choices = (projects.value ?? []).filter((p) => limitedTo === null || limitedTo.includes(p.projectId));
  return (
    <main class="stack">
      <h1>Metrics</h1>
      <label>
        Scope{" "}
        <select value={projectId} onChange={(e) => setChosen(e.currentTarget.value)}>
          {limitedTo === null ? <option value="">Whole org</option> : null}
          {choices.map((p) => (
            <option key={p.projectId} value={p.projectId}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      {whoami.error ? <ErrorBox error={whoami.error} /> : null}
      {metrics.error ? <ErrorBox error={metrics.error} /> : null}
      {m ? (
        <>
          <p class="muted">
            {m.from} to {m.to} (UTC days)
          </p>
          <div class="row">
            <Card label="Assemblies" value={compact(m.totals.assemblies)} testId="metric-assemblies" />
            <Card label="Assembly p50 / p95" value={m.totals.latencyMs ? `${ms(m.totals.latencyMs.p50)} / ${ms(m.totals.latencyMs.p95)}` : "—"} />
            <Card label="Context utilization" value={orNone(m.totals.utilization, percent)} />
            <Card label="Hot-window hit rate" value={orNone(m.totals.hotWindowHitRate, percent)} />
            <Card label="Tokens per call" value={orNone(m.totals.tokensPerCall, compact)} />
            <Card label="Cost per call" value={orNone(m.totals.costPerCallUsd, usd)} />
            <Card label="Error rate (5xx)" value={orNone(m.totals.errorRate, percent)} />
            <Card label="Retrieval recall" value={orNone(m.totals.recall, percent)} />
          </div>
          {m.totals.assemblies === 0 && m.totals.requests === 0 ? (
            <div class="empty">Nothing measured in this period yet: assemble a context or run a session.</div>
          ) : null}
          <div class="grid2">
            <BarChart title="Assembly p95 by day" points={series(m.days, (d) => d.latencyMs?.p95 ?? null)} format={ms} floor={0.01} />
            <BarChart title="Assemblies by day" points={series(m.days, (d) => d.assemblies)} />
            <BarChart title="Context utilization by day" points={series(m.days, (d) => d.utilization)} format={percent} />
            <BarChart title="Hot-window hit rate by day" points={series(m.days, (d) => d.hotWindowHitRate)} format={percent} />
            <BarChart title="Tokens per call by day" points={series(m.days, (d) => d.tokensPerCall)} />
            <BarChart title="Cost per call by day" points={series(m.days, (d) => d.costPerCallUsd)} format={usd} floor={1e-6} />
            <BarChart title="Error rate by day" points={series(m.days, (d) => d.errorRate)} format={percent} />
            <BarChart title="Retrieval recall by day" points={series(m.days, (d) => d.recall)} format={percent} />
          </div>
        </>
      ) : metrics.loading ? (
        <p class="muted">Loading metrics…</p>
      ) : null}
    </main>
  );
}
