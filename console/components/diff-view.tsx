/** A generation's changes as a unified diff (or a whole new file), added and removed lines coloured. */
import type { GeneratedDiff } from "../../src/client";

function lineClass(line: string): string | undefined {
  if (line.startsWith("+++") || line.startsWith("---")) return "hunk";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "del";
  if (line.startsWith("@@")) return "hunk";
  return undefined;
}

export function DiffView({ diffs }: { diffs: GeneratedDiff[] }) {
  if (diffs.length === 0) return <div class="empty">The generation proposed no changes.</div>;
  return (
    <div class="stack" data-testid="diff">
      {diffs.map((d, i) => {
        const text = "diff" in d ? d.diff : `+++ ${d.path} (whole file)\n${d.content.replace(/^/gm, "+")}`;
        return (
          <pre class="diff" key={i}>
            {text.split("\n").map((line, j) => (
              <div key={j} class={lineClass(line)}>
                {line || " "}
              </div>
            ))}
          </pre>
        );
      })}
    </div>
  );
}
