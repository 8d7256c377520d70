/**
 * For admins: the org's quotas and rate limits (GET/PUT /api/orgs/:orgId/limits), the org from whoami.
 * A field left empty restores its default; only changed fields are sent.
 */
import { useState } from "preact/hooks";
import type { LimitsPatchRequest, LimitsView, WinkyClient } from "../../src/client";
import { ErrorBox } from "../components/error-box";
import { useLoad } from "../components/use-load";

type Field = { key: keyof Omit<LimitsView["limits"], "perProject">; label: string };
const FIELDS: Field[] = [
  { key: "tokensAssembledPerDay", label: "Tokens assembled per day" },
  { key: "spendUsdPerDay", label: "Spend per day (USD)" },
  { key: "spendUsdPerMonth", label: "Spend per month (USD)" },
  { key: "sandboxMinutesPerDay", label: "Sandbox minutes per day" },
  { key: "concurrentSandboxRuns", label: "Concurrent sandbox runs" },
  { key: "projects", label: "Projects" },
  { key: "storedBytes", label: "Stored bytes" },
  { key: "requestsPerMinutePerKey", label: "Requests per minute per key" },
];

function LimitsForm({ client, view, onSaved }: { client: WinkyClient; view: LimitsView; onSaved: (v: LimitsView) => void }) {
  const initial = Object.fromEntries(FIELDS.map((f) => [f.key, String(view.limits[f.key] ?? "")]));
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [error, setError] = useState<unknown>(undefined);
  const save = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const patch: LimitsPatchRequest = {};
    for (const f of FIELDS) {
      const text = (values[f.key] ?? "").trim();
      if (text === initial[f.key]) continue;
      patch[f.key] = text === "" ? null : Number(text);
    }
    if (Object.keys(patch).length === 0) return;
    try {
      onSaved(await client.orgs.setLimits(view.orgId, patch));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="card stack" onSubmit={save} data-testid="limits">
      {error ? <ErrorBox error={error} /> : null}
      {FIELDS.map((f) => {
        const fallback = f.key in view.defaults ? view.defaults[f.key as keyof LimitsView["defaults"]] : undefined;
        return (
          <label key={f.key}>
            {f.label}{" "}
            <input
              type="number"
              aria-label={f.label}
              min="0"
              step="any"
              value={values[f.key]}
              placeholder={fallback === undefined ? "the deployment's default" : `default ${fallback}`}
              onInput={(e) => setValues((v) => ({ ...v, [f.key]: e.currentTarget.value }))}
            />
            {fallback !== undefined ? <span class="muted"> default {fallback}</span> : null}
          </label>
        );
      })}
      <div>
        <button class="primary" type="submit">
          Save limits
        </button>
      </div>
    </form>
  );
}

export function LimitsPage({ client }: { client: WinkyClient }) {
  const limits = useLoad(async () => client.orgs.limits((await client.whoami()).orgId), [client]);
  // The form is made anew from each saved view (its key), so "saved" lives here.
  const [latest, setLatest] = useState<LimitsView | undefined>(undefined);
  const view = latest ?? limits.value;
  return (
    <main class="stack">
      <h1>Limits</h1>
      <p class="muted">Quotas refuse work at 100% (a 402 says which) and warn from 80%. Empty a field to restore its default.</p>
      {limits.error ? <ErrorBox error={limits.error} /> : null}
      {view ? (
        <LimitsForm key={JSON.stringify(view.limits)} client={client} view={view} onSaved={setLatest} />
      ) : limits.loading ? (
        <p class="muted">Loading limits…</p>
      ) : null}
      {latest ? (
        <p class="muted" role="status">
          Saved.
        </p>
      ) : null}
      {view ? (
        <p class="muted">
          Per project: tokens assembled per day {view.limits.perProject.tokensAssembledPerDay ?? "no limit of its own"}, spend per day{" "}
          {view.limits.perProject.spendUsdPerDay ?? "no limit of its own"}.
        </p>
      ) : null}
    </main>
  );
}
