/** Sign in with an API key: checked against the server, then kept in sessionStorage for this tab. */
import { useState } from "preact/hooks";
import { ErrorBox } from "../components/error-box";
import { clientFor, storeKey } from "../lib/auth";

export function SignIn({ onSignedIn }: { onSignedIn: (apiKey: string) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const apiKey = key.trim();
    try {
      // Any authenticated read proves the key; listing one project is the cheapest.
      await clientFor(apiKey).projects.list({ limit: 1 });
      storeKey(apiKey);
      onSignedIn(apiKey);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main>
      <form class="card stack signin" onSubmit={submit}>
        <h1>Winky Context</h1>
        <p class="muted">
          Sign in with an API key (<code>wk_…</code>). It stays in this tab only and is cleared when the tab closes. With <code>npm start</code>, the local
          admin key is <code>WINKY_API_KEY</code> in <code>.dev.vars</code>.
        </p>
        <label class="stack" style={{ alignItems: "stretch" }}>
          API key
          <input name="apiKey" type="password" autocomplete="off" required value={key} onInput={(e) => setKey(e.currentTarget.value)} />
        </label>
        <button class="primary" type="submit" disabled={busy || !key.trim()}>
          {busy ? "Checking…" : "Sign in"}
        </button>
        {error ? <ErrorBox error={error} /> : null}
      </form>
    </main>
  );
}
