/** For admins: API keys (create with scopes and projects, list, revoke), a link to the limits, and the audit log. */
import { useState } from "preact/hooks";
import type { KeyCreateRequest, WinkyClient } from "../../src/client";
import { ErrorBox } from "../components/error-box";
import { useLoad } from "../components/use-load";
import { when } from "../lib/format";
import { href } from "../lib/route";

const SCOPES = ["read", "ingest", "generate", "sandbox", "admin"] as const;
type Scope = (typeof SCOPES)[number];

export function AdminPage({ client }: { client: WinkyClient }) {
  const keys = useLoad(() => client.keys.list(), [client]);
  const audit = useLoad(() => client.audit({ limit: 50 }), [client]);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Scope[]>(["read"]);
  const [projects, setProjects] = useState("");
  const [minted, setMinted] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const create = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const projectIds = projects
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    const body: KeyCreateRequest = { name: name.trim(), scopes, ...(projectIds.length ? { projectIds } : {}) };
    try {
      const key = await client.keys.create(body);
      setMinted(key.apiKey);
      setName("");
      keys.reload();
    } catch (err) {
      setError(err);
    }
  };
  const revoke = async (keyId: string) => {
    if (!confirm("Revoke this key? Anything using it stops working at once.")) return;
    try {
      await client.keys.revoke(keyId);
      keys.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <main class="stack">
      <h1>Admin</h1>
      <p>
        <a href={href.limits()}>Quotas and rate limits</a>
      </p>
      {error ? <ErrorBox error={error} /> : null}
      <h2>API keys</h2>
      <form class="card stack" onSubmit={create}>
        <label>
          Name <input type="text" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <fieldset class="row" style={{ border: 0, padding: 0 }}>
          <legend>Scopes</legend>
          {SCOPES.map((s) => (
            <label key={s}>
              <input
                type="checkbox"
                checked={scopes.includes(s)}
                onChange={(e) => setScopes((list) => (e.currentTarget.checked ? [...list, s] : list.filter((x) => x !== s)))}
              />
              {s}
            </label>
          ))}
        </fieldset>
        <label>
          Projects{" "}
          <input type="text" value={projects} onInput={(e) => setProjects(e.currentTarget.value)} placeholder="all projects, or ids separated by commas" />
        </label>
        <div>
          <button class="primary" type="submit" disabled={!name.trim() || scopes.length === 0}>
            Create key
          </button>
        </div>
        {minted ? (
          <p class="card">
            New key (shown once; copy it now): <code style={{ wordBreak: "break-all" }}>{minted}</code>
          </p>
        ) : null}
      </form>
      {keys.error ? <ErrorBox error={keys.error} /> : null}
      {keys.value ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Prefix</th>
                <th>Scopes</th>
                <th>Projects</th>
                <th>Last used</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.value.keys.map((k) => (
                <tr key={k.keyId}>
                  <td>{k.name}</td>
                  <td class="mono">{k.prefix}…</td>
                  <td>{k.scopes.join(", ")}</td>
                  <td class="mono">{k.projectIds?.join(", ") ?? "all"}</td>
                  <td>{when(k.lastUsedAt)}</td>
                  <td>
                    {k.revokedAt ? (
                      <span class="muted">revoked {when(k.revokedAt)}</span>
                    ) : (
                      <button type="button" class="danger" onClick={() => revoke(k.keyId)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <h2>Audit log</h2>
      {audit.error ? <ErrorBox error={audit.error} /> : null}
      {audit.value && audit.value.entries.length === 0 ? <div class="empty">Nothing audited yet.</div> : null}
      {audit.value && audit.value.entries.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>When</th>
                <th>Actor</th>
                <th>Action</th>
                <th>Project</th>
              </tr>
            </thead>
            <tbody>
              {audit.value.entries.map((a) => (
                <tr key={a.auditId}>
                  <td>{when(a.at)}</td>
                  <td class="mono">{a.actor}</td>
                  <td>{a.action}</td>
                  <td class="mono">{a.projectId ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </main>
  );
}
