/**
 * A generation's changes, unified or side by side (a toggle): added and removed lines coloured, a whole
 * new file shown as added lines. The side-by-side rows come from `sideBySide` (lib/diff-rows.ts).
 */
import { useState } from "preact/hooks";
import type { GeneratedDiff } from "../../src/client";
import { type Cell, type SideRow, sideBySide, wholeFileRows } from "../lib/diff-rows";

type Layout = "unified" | "split";

function lineClass(line: string): string | undefined {
  if (line.startsWith("+++") || line.startsWith("---")) return "hunk";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "del";
  if (line.startsWith("@@")) return "hunk";
  return undefined;
}

const unifiedText = (d: GeneratedDiff): string => ("diff" in d ? d.diff : `+++ ${d.path} (whole file)\n${d.content.replace(/\n$/, "").replace(/^/gm, "+")}`);
const splitRows = (d: GeneratedDiff): SideRow[] => ("diff" in d ? sideBySide(d.diff) : wholeFileRows(d.path, d.content));

function Unified({ diff }: { diff: GeneratedDiff }) {
  return (
    <pre class="diff">
      {unifiedText(diff)
        .split("\n")
        .map((line, j) => (
          <div key={j} class={lineClass(line)}>
            {line || " "}
          </div>
        ))}
    </pre>
  );
}

function Side({ cell }: { cell: Cell | null }) {
  if (!cell) return <td class="ln" colSpan={2} />;
  return (
    <>
      <td class="ln">{cell.n}</td>
      <td class={cell.kind === "ctx" ? "code" : `code ${cell.kind}`}>{cell.text || " "}</td>
    </>
  );
}

function Split({ diff }: { diff: GeneratedDiff }) {
  return (
    <div class="diff-split">
      <table>
        <colgroup>
          <col class="ln" />
          <col />
          <col class="ln" />
          <col />
        </colgroup>
        <tbody>
          {splitRows(diff).map((r, i) =>
            r.kind === "line" ? (
              <tr key={i}>
                <Side cell={r.left} />
                <Side cell={r.right} />
              </tr>
            ) : (
              <tr key={i} class="hunk">
                <td colSpan={4}>{r.text}</td>
              </tr>
            ),
          )}
        </tbody>
      </table>
    </div>
  );
}

export function DiffView({ diffs }: { diffs: GeneratedDiff[] }) {
  const [layout, setLayout] = useState<Layout>("unified");
  if (diffs.length === 0) return <div class="empty">The generation proposed no changes.</div>;
  return (
    <div class="stack" data-testid="diff" data-layout={layout}>
      <fieldset class="row toggle">
        <legend class="sr-only">Diff layout</legend>
        <button type="button" aria-pressed={layout === "unified"} onClick={() => setLayout("unified")}>
          Unified
        </button>
        <button type="button" aria-pressed={layout === "split"} onClick={() => setLayout("split")}>
          Side by side
        </button>
      </fieldset>
      {diffs.map((d, i) => (layout === "unified" ? <Unified key={i} diff={d} /> : <Split key={i} diff={d} />))}
    </div>
  );
}
