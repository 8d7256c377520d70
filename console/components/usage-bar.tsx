/** The usage bar: the prompt's tokens by section against the budget, with exact counts in the legend. */
import type { AssembleResult } from "../../src/client";
import { percent, tokens } from "../lib/format";

type Sections = AssembleResult["sections"];

const PARTS: { key: keyof Sections; label: string; color: string }[] = [
  { key: "system", label: "System", color: "var(--s-system)" },
  { key: "conversation", label: "Conversation", color: "var(--s-conversation)" },
  { key: "instruction", label: "Instruction", color: "var(--s-instruction)" },
  { key: "snippets", label: "Snippets", color: "var(--s-snippets)" },
  { key: "summaries", label: "Summaries", color: "var(--s-summaries)" },
  { key: "safetyMargin", label: "Safety margin", color: "var(--s-margin)" },
];

export function UsageBar({ sections, total, budget }: { sections: Sections; total: number; budget: number }) {
  const free = Math.max(0, budget - total - sections.safetyMargin);
  const title = `${tokens(total)} of ${tokens(budget)} tokens used (${percent(total / budget)})`;
  return (
    <figure class="stack" style={{ margin: 0 }} aria-label="context usage by section">
      <figcaption>
        <strong>{tokens(total)}</strong> / {tokens(budget)} tokens <span class="muted">({percent(total / budget)} of the budget)</span>
      </figcaption>
      <div class="usage-bar" role="img" aria-label={title}>
        {PARTS.map((p) => (
          <span
            key={p.key}
            title={`${p.label}: ${tokens(sections[p.key])} tokens`}
            style={{ width: `${(sections[p.key] / budget) * 100}%`, background: p.color }}
          />
        ))}
      </div>
      <ul class="legend" style={{ padding: 0, margin: 0, listStyle: "none" }}>
        {PARTS.map((p) => (
          <li key={p.key} data-section={p.key}>
            <i style={{ background: p.color }} />
            {p.label} <span class="mono">{tokens(sections[p.key])}</span>
          </li>
        ))}
        <li data-section="free">
          <i style={{ border: "1px solid var(--line)" }} />
          Free <span class="mono">{tokens(free)}</span>
        </li>
      </ul>
    </figure>
  );
}
