/**
 * A unified diff as the rows of a side-by-side view: context on both sides, a run of removed lines beside
 * the run of added lines that replaces it, each cell with its line number. Hunk bodies are read by the
 * counts in their `@@` header, so a removed line that starts with `--` is not taken for a file header.
 */

export type Cell = { n: number; text: string; kind: "ctx" | "del" | "add" };
export type SideRow = { kind: "file"; text: string } | { kind: "hunk"; text: string } | { kind: "line"; left: Cell | null; right: Cell | null };

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

export function sideBySide(diff: string): SideRow[] {
  const rows: SideRow[] = [];
  let dels: Cell[] = [];
  let adds: Cell[] = [];
  const flush = () => {
    for (let i = 0; i < Math.max(dels.length, adds.length); i++) rows.push({ kind: "line", left: dels[i] ?? null, right: adds[i] ?? null });
    dels = [];
    adds = [];
  };
  let left = 0;
  let right = 0;
  let oldLeft = 0;
  let newLeft = 0;
  for (const line of diff.replace(/\n$/, "").split("\n")) {
    if (oldLeft > 0 || newLeft > 0) {
      const mark = line[0];
      const text = line.slice(1);
      if (mark === "-") {
        dels.push({ n: left++, text, kind: "del" });
        oldLeft--;
      } else if (mark === "+") {
        adds.push({ n: right++, text, kind: "add" });
        newLeft--;
      } else if (mark === "\\") {
        // "\ No newline at end of file" belongs to the line before it.
      } else {
        flush();
        rows.push({ kind: "line", left: { n: left++, text, kind: "ctx" }, right: { n: right++, text, kind: "ctx" } });
        oldLeft--;
        newLeft--;
      }
      continue;
    }
    flush();
    const hunk = HUNK.exec(line);
    if (hunk) {
      left = Number(hunk[1]);
      right = Number(hunk[3]);
      oldLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      newLeft = hunk[4] === undefined ? 1 : Number(hunk[4]);
      rows.push({ kind: "hunk", text: line });
    } else if (line.startsWith("--- ") || line.startsWith("+++ ") || line.startsWith("diff ")) {
      rows.push({ kind: "file", text: line });
    }
  }
  flush();
  return rows;
}

/** A whole new file: nothing on the left, every line added on the right. */
export function wholeFileRows(path: string, content: string): SideRow[] {
  return [
    { kind: "file", text: `${path} (whole file)` },
    ...content
      .replace(/\n$/, "")
      .split("\n")
      .map((text, i): SideRow => ({ kind: "line", left: null, right: { n: i + 1, text, kind: "add" } })),
  ];
}
