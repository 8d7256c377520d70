/** The context inspector: what the engine would put in front of the model for a prompt, and why. */
import { useState } from "preact/hooks";
import type { Assembled, WinkyClient } from "../../src/client";
import { ContextText } from "../components/context-text";
import { ErrorBox } from "../components/error-box";
import { UsageBar } from "../components/usage-bar";
import { compact, tokens } from "../lib/format";
import { href } from "../lib/route";

// The spec's range: a small model's window up to the engine's full 500k.
const MIN_BUDGET = 8_000;
const MAX_BUDGET = 500_000;
const BUDGET_STEP = 1_000;

type InspectorState = { prompt: string; budget: number; hot: string; result: Assembled | undefined };
// The last assembly per project, kept while the tab lives: opening a piece and coming back shows it again.
const lastState = new Map<string, InspectorState>();

export function Inspect({ client, projectId }: { client: WinkyClient; projectId: string }) {
  const kept = lastState.get(projectId);
  const [prompt, setPrompt] = useState(kept?.prompt ?? "");
  const [budget, setBudget] = useState(kept?.budget ?? 32_000);
  const [hot, setHot] = useState(kept?.hot ?? "");
  const [result, setResult] = useState<Assembled | undefined>(kept?.result);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const assemble = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const hotPaths = hot
        .split("\n")
        .map((s) => s.trim())
        .filter(Boolean);
      const assembled = await client.context.assemble({ projectId, prompt, budget, hotPaths, includeText: true });
      setResult(assembled);
      lastState.set(projectId, { prompt, budget, hot, result: assembled });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="stack">
      <h1>Context inspector</h1>
      <p class="muted">
        <a href={href.project(projectId)}>← project</a>
      </p>
      <form class="card stack" onSubmit={assemble}>
        <label class="stack" style={{ alignItems: "stretch" }}>
          Prompt
          <textarea name="prompt" required value={prompt} onInput={(e) => setPrompt(e.currentTarget.value)} placeholder="Why does the upload retry twice?" />
        </label>
        <div class="row">
          <label>
            Budget
            <input
              type="range"
              min={MIN_BUDGET}
              max={MAX_BUDGET}
              step={BUDGET_STEP}
              value={budget}
              onInput={(e) => setBudget(Number(e.currentTarget.value))}
              aria-valuetext={`${tokens(budget)} tokens`}
            />
          </label>
          <input
            name="budget"
            type="number"
            min={MIN_BUDGET}
            max={MAX_BUDGET}
            step={BUDGET_STEP}
            value={budget}
            aria-label="budget in tokens"
            onChange={(e) => setBudget(Math.min(MAX_BUDGET, Math.max(MIN_BUDGET, Number(e.currentTarget.value) || MIN_BUDGET)))}
            style={{ width: "8rem" }}
          />
          <span class="muted">{compact(budget)} tokens</span>
        </div>
        <label class="stack" style={{ alignItems: "stretch" }}>
          Hot paths <span class="muted">(one per line: files you are working on)</span>
          <textarea name="hotPaths" value={hot} onInput={(e) => setHot(e.currentTarget.value)} style={{ minHeight: "3rem" }} placeholder="src/upload.ts" />
        </label>
        <div>
          <button class="primary" type="submit" disabled={busy || !prompt.trim()}>
            {busy ? "Assembling…" : "Assemble"}
          </button>
        </div>
      </form>
      {error ? <ErrorBox error={error} /> : null}
      {result ? (
        <AssembledView projectId={projectId} result={result} />
      ) : (
        <div class="empty">Ask something to see the context the engine assembles for it.</div>
      )}
    </main>
  );
}

function AssembledView({ projectId, result }: { projectId: string; result: Assembled }) {
  return (
    <section class="stack" data-testid="assembled">
      <UsageBar sections={result.sections} total={result.tokenTotal} budget={result.tokenBudget} />
      <p class="muted">
        {result.contextPieces.length} pieces, assembled in {result.timings.total ?? "?"} ms for {result.model}
      </p>
      {result.warnings.map((w) => (
        <p key={w} class="badge warn">
          {w}
        </p>
      ))}
      <div class="grid2">
        <div>
          <h2>Pieces in prompt order</h2>
          <ol class="pieces" data-testid="pieces">
            {result.contextPieces.map((p) => (
              <li key={`${p.chunkId}:${p.startLine}`}>
                <a href={href.chunk(projectId, p.chunkId, p.kind === "chunk" ? [p.startLine, p.endLine] : undefined)}>
                  {p.sourcePath || "."}
                  {p.kind === "chunk" ? `:${p.startLine}-${p.endLine}` : ""}
                </a>
                <div class="row muted" style={{ fontSize: "0.85rem" }}>
                  <span class="badge">{p.kind}</span>
                  <span>score {p.score.toFixed(3)}</span>
                  <span>{tokens(p.tokenCount)} tokens</span>
                  <span>{p.reasons.join(", ")}</span>
                </div>
              </li>
            ))}
          </ol>
        </div>
        <div>
          <h2>Assembled text</h2>
          {result.contextText ? <ContextText projectId={projectId} text={result.contextText} /> : <p class="muted">No text.</p>}
        </div>
      </div>
    </section>
  );
}
