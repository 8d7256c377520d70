/** The org's projects: list, create, delete. */
import { useState } from "preact/hooks";
import type { WinkyClient } from "../../src/client";
import { ErrorBox } from "../components/error-box";
import { useLoad } from "../components/use-load";
import { tokens, when } from "../lib/format";
import { href } from "../lib/route";

export function Projects({ client }: { client: WinkyClient }) {
  const list = useLoad(() => client.projects.listAll(), [client]);
  const [name, setName] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const created = await client.projects.create({ name: name.trim() });
      setName("");
      location.hash = href.project(created.projectId);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = async (projectId: string, projectName: string) => {
    if (!confirm(`Delete the project "${projectName}" and everything indexed in it?`)) return;
    try {
      await client.projects.delete(projectId);
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <main class="stack">
      <h1>Projects</h1>
      <form class="row" onSubmit={create}>
        <label>
          New project
          <input name="projectName" type="text" required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="my-repo" />
        </label>
        <button class="primary" type="submit" disabled={busy || !name.trim()}>
          Create
        </button>
      </form>
      {error ? <ErrorBox error={error} /> : null}
      {list.error ? <ErrorBox error={list.error} /> : null}
      {list.loading && !list.value ? <p class="muted">Loading projects…</p> : null}
      {list.value && list.value.length === 0 ? <div class="empty">No projects yet. Create one above, then ingest a folder or an archive into it.</div> : null}
      {list.value && list.value.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th class="num">Files</th>
                <th class="num">Tokens</th>
                <th>Last ingest</th>
                <th>Created</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.value.map((p) => (
                <tr key={p.projectId}>
                  <td>
                    <a href={href.project(p.projectId)}>{p.name}</a>
                    <div class="muted mono">{p.projectId}</div>
                  </td>
                  <td class="num">{tokens(p.files)}</td>
                  <td class="num">{tokens(p.tokens)}</td>
                  <td>{p.lastJob ? <span class="badge">{p.lastJob.status}</span> : <span class="muted">never</span>}</td>
                  <td>{when(p.createdAt)}</td>
                  <td class="row">
                    <a href={href.inspect(p.projectId)}>Inspect</a>
                    <a href={href.session(p.projectId)}>Session</a>
                    <button type="button" class="danger" onClick={() => remove(p.projectId, p.name)} aria-label={`Delete ${p.name}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </main>
  );
}
