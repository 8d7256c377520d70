/**
 * A session: ask for a change and watch it run live over the session's WebSocket (plan, passes with their
 * tokens, streamed text, sandbox output, verification), then approve or reject the result: its diff
 * (unified or side by side), claims check, citations linked to their lines and a link to its decision log.
 * The client's session socket reconnects with `?after=` after a drop, so no event is lost or repeated.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { describeEvent, type Generation, isRunEnd, type SessionEvent, type SessionSocket, type WinkyClient } from "../../src/client";
import { DiffView } from "../components/diff-view";
import { ErrorBox } from "../components/error-box";
import { tokens, usd } from "../lib/format";
import { citationHref, href } from "../lib/route";

type Call = { pass: string; inputTokens: number; outputTokens: number; costUsd: number };

export function SessionPage({ client, projectId }: { client: WinkyClient; projectId: string }) {
  const [sessionId, setSessionId] = useState<string | undefined>(undefined);
  const [prompt, setPrompt] = useState("");
  const [verify, setVerify] = useState(true);
  const [events, setEvents] = useState<SessionEvent[]>([]);
  const [streamed, setStreamed] = useState("");
  const [calls, setCalls] = useState<Call[]>([]);
  const [connection, setConnection] = useState("not connected");
  const [generation, setGeneration] = useState<Generation | undefined>(undefined);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [feedback, setFeedback] = useState<string | undefined>(undefined);
  const socket = useRef<SessionSocket | undefined>(undefined);
  const streamBox = useRef<HTMLPreElement>(null);

  useEffect(() => () => socket.current?.close(), []);
  useEffect(() => {
    const box = streamBox.current;
    if (box) box.scrollTop = box.scrollHeight;
  }, [streamed]);

  const onEvent = (e: SessionEvent) => {
    setEvents((list) => [...list, e]);
    const d = (e.data ?? {}) as Record<string, unknown>;
    if (e.type === "tokens") setStreamed((s) => s + String(d.text ?? ""));
    if (e.type === "call")
      setCalls((c) => [...c, { pass: String(d.pass), inputTokens: Number(d.inputTokens), outputTokens: Number(d.outputTokens), costUsd: Number(d.costUsd) }]);
    if (isRunEnd(e)) setRunning(false);
  };

  const start = async (): Promise<string> => {
    if (sessionId) return sessionId;
    const session = await client.sessions.create({ projectId });
    setSessionId(session.sessionId);
    socket.current = client.sessions.connect(session.sessionId, {
      after: 0,
      onEvent,
      onControl: (f) => f.type === "replayed" && setConnection("live"),
      onReconnect: (attempt, after) => setConnection(`reconnecting (attempt ${attempt}) after event ${after}`),
    });
    setConnection("live");
    socket.current.closed.catch((e: unknown) => setConnection(`closed: ${e instanceof Error ? e.message : String(e)}`));
    return session.sessionId;
  };

  const ask = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setGeneration(undefined);
    setFeedback(undefined);
    setStreamed("");
    setRunning(true);
    try {
      const id = await start();
      const answer = await client.ai.generatePrototype({ projectId, sessionId: id, prompt, verify });
      if ("dryRun" in answer) throw new Error("the server answered a dry run");
      setGeneration(answer);
    } catch (err) {
      setError(err);
    } finally {
      setRunning(false);
    }
  };

  const judge = async (approved: boolean) => {
    if (!generation) return;
    try {
      const r = await client.ai.feedback(generation.id, { approved });
      setFeedback(r.approved ? "Approved: its files now rank higher in this project's context." : "Rejected.");
    } catch (err) {
      setError(err);
    }
  };

  return (
    <main class="stack">
      <h1>Session</h1>
      <p class="muted">
        <a href={href.project(projectId)}>← project</a> · <a href={href.generations(projectId)}>all generations</a> ·{" "}
        {sessionId ? <span class="mono">{sessionId}</span> : "a session starts with your first request"} · <span data-testid="connection">{connection}</span>
      </p>
      <form class="card stack" onSubmit={ask}>
        <label class="stack" style={{ alignItems: "stretch" }}>
          Ask for a change
          <textarea name="ask" required value={prompt} onInput={(e) => setPrompt(e.currentTarget.value)} placeholder="Add a retry with backoff to the upload" />
        </label>
        <div class="row">
          <button class="primary run" type="submit" disabled={running || !prompt.trim()}>
            {running ? "Running…" : "Run"}
          </button>
          <label>
            <input name="verify" type="checkbox" checked={verify} onChange={(e) => setVerify(e.currentTarget.checked)} />
            Verify in the sandbox
          </label>
        </div>
      </form>
      {error ? <ErrorBox error={error} /> : null}
      <div class="grid2">
        <section>
          <h2>Events</h2>
          <ol
            class="events"
            data-testid="events"
            aria-live="polite"
            data-count={events.length}
            data-first-seq={events[0]?.seq ?? ""}
            data-last-seq={events.at(-1)?.seq ?? ""}
          >
            {events.length === 0 ? <li class="muted">No events yet.</li> : null}
            {events
              .filter((e) => e.type !== "tokens")
              .map((e) => (
                <li key={e.seq} data-type={e.type} data-seq={e.seq}>
                  {describeEvent(e)}
                </li>
              ))}
          </ol>
        </section>
        <section>
          <h2>Model output</h2>
          <pre class="stream" ref={streamBox} data-testid="stream">
            {streamed || " "}
          </pre>
          <table class="calls">
            <thead>
              <tr>
                <th>Pass</th>
                <th class="num">In</th>
                <th class="num">Out</th>
                <th class="num">Cost</th>
              </tr>
            </thead>
            <tbody>
              {calls.map((c, i) => (
                <tr key={i}>
                  <td>{c.pass}</td>
                  <td class="num">{tokens(c.inputTokens)}</td>
                  <td class="num">{tokens(c.outputTokens)}</td>
                  <td class="num">{usd(c.costUsd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
      {generation ? <Result projectId={projectId} generation={generation} feedback={feedback} onJudge={judge} /> : null}
    </main>
  );
}

function Result({
  projectId,
  generation,
  feedback,
  onJudge,
}: {
  projectId: string;
  generation: Generation;
  feedback: string | undefined;
  onJudge: (approved: boolean) => void;
}) {
  const verified = generation.verification.at(-1)?.status ?? "not verified";
  return (
    <section class="card stack" data-testid="result">
      <h2 style={{ margin: 0 }}>Result</h2>
      <p>
        <strong>Plan:</strong> {generation.plan.summary}
      </p>
      <ol>
        {generation.plan.steps.map((s) => (
          <li key={s.description}>
            {s.description} {s.files.length ? <span class="muted mono">({s.files.join(", ")})</span> : null} <Citations projectId={projectId} ids={s.sources} />
          </li>
        ))}
      </ol>
      <p class="row">
        <span>
          Verification: <span class={`badge ${verified === "passed" ? "ok" : verified === "failed" ? "bad" : "warn"}`}>{verified}</span>
        </span>
        <span>
          Claims:{" "}
          <span class={`badge ${generation.claims.status === "supported" ? "ok" : "bad"}`} data-testid="claims">
            {generation.claims.status.replace("_", " ")}
          </span>
        </span>
        <span class="muted">{generation.repairs} repairs</span>
        <span class="muted">
          {tokens(generation.usage.inputTokens)} in, {tokens(generation.usage.outputTokens)} out, {usd(generation.usage.costUsd)}
        </span>
      </p>
      <DiffView diffs={generation.diffs} />
      {generation.sources.length ? (
        <>
          <h3>Citations</h3>
          <ul>
            {generation.sources.map((s) => (
              <li key={s.claim}>
                {s.claim} <Citations projectId={projectId} ids={s.chunkIds} />
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {generation.claims.unsupported.length > 0 ? (
        <ul class="muted">
          {generation.claims.unsupported.map((u, i) => (
            <li key={i}>
              unsupported ({u.pass}): “{u.claim}” — {u.problem}
            </li>
          ))}
        </ul>
      ) : null}
      <p>
        <a href={href.generation(projectId, generation.id)}>Decision log</a>{" "}
        <span class="muted">(every call, its tokens, cost and prompt fingerprint, and why)</span>
      </p>
      <div class="row">
        <button type="button" class="primary" disabled={feedback !== undefined} onClick={() => onJudge(true)}>
          Approve
        </button>
        <button type="button" disabled={feedback !== undefined} onClick={() => onJudge(false)}>
          Reject
        </button>
        <span data-testid="feedback" aria-live="polite">
          {feedback ?? ""}
        </span>
      </div>
    </section>
  );
}

/** `chk_0123456789abcdef:12-30` as `chk_01234567…:12-30`: the id shortened, the lines kept. */
function shortCitation(citation: string): string {
  const [, id = citation, lines = ""] = /^(.+?)(:\d+-\d+)?$/.exec(citation) ?? [];
  return `${id.length > 14 ? `${id.slice(0, 12)}…` : id}${lines}`;
}

/** A claim's citations, each a link to its chunk with the cited lines highlighted. */
function Citations({ projectId, ids }: { projectId: string; ids: string[] }) {
  return (
    <>
      {ids.map((id) => (
        <a key={id} class="mono citation" href={citationHref(projectId, id)} title={id}>
          {shortCitation(id)}
        </a>
      ))}
    </>
  );
}
