/** An API failure said plainly, with what to do next for the refusals a person can act on. */
import { WinkyApiError } from "../../src/client";

/** What the person can do about an error, by status and code. */
export function advice(e: unknown): string | undefined {
  if (!(e instanceof WinkyApiError)) return undefined;
  if (e.status === 402)
    return "Your organisation reached a usage quota. Wait for the daily window to reset, or ask an admin to raise the limit (Admin → Limits).";
  if (e.status === 401) return "The API key was refused: it may have been revoked or expired. Sign out and sign in with a valid key.";
  if (e.status === 403) return "This key lacks the scope or project access for this action. Ask an admin for a key that has it.";
  if (e.status === 429) return "Too many requests for this key right now. Wait a minute and try again.";
  if (e.status === 0) return "The server did not answer. Check that it is running, then try again.";
  if (e.status === 503) return "A dependency is unavailable (the model or the sandbox). Check /health, then try again.";
  return undefined;
}

export function ErrorBox({ error }: { error: unknown }) {
  const message = error instanceof Error ? error.message : String(error);
  const tip = advice(error);
  const id = error instanceof WinkyApiError ? error.requestId : undefined;
  return (
    <div class="error" role="alert">
      <div>
        {error instanceof WinkyApiError && error.status > 0 ? <strong>{error.status} </strong> : null}
        {message}
      </div>
      {tip ? <div class="what">{tip}</div> : null}
      {id ? <div class="muted mono">request {id}</div> : null}
    </div>
  );
}
