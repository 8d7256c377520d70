/**
 * What a fix changed, read from its unified diff: the files it modified (files it created cannot be
 * retrieved before they exist) and, per file, the pre-fix lines it touched — removed lines, or for a
 * pure insertion the line it follows.
 */
export type Gold = Map<string, number[]>;
/** The same lines by hunk: per file, each hunk's lines (a hunk that changes nothing is left out). */
export type GoldHunks = Map<string, number[][]>;

export function goldHunksOf(patch: string): GoldHunks {
  const gold: GoldHunks = new Map();
  let path: string | undefined;
  let oldLine = 0;
  let inHunk = false;
  let lastContext = 0;
  let hunkLines: number[] = [];
  let hunkHasChange = false;
  let afterRemoval = false;
  const endHunk = (): void => {
    if (path && inHunk && hunkHasChange) gold.get(path)?.push(hunkLines);
    inHunk = false;
    hunkLines = [];
    hunkHasChange = false;
  };
  for (const line of patch.split("\n")) {
    if (line.startsWith("diff --git ")) {
      endHunk();
      path = undefined;
      continue;
    }
    if (line.startsWith("--- ")) {
      endHunk();
      const from = line.slice(4).trim();
      path = from === "/dev/null" ? undefined : from.replace(/^a\//, "");
      if (path && !gold.has(path)) gold.set(path, []);
      continue;
    }
    if (line.startsWith("+++ ")) continue;
    const h = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@/.exec(line);
    if (h) {
      endHunk();
      inHunk = true;
      oldLine = Number(h[1]);
      lastContext = oldLine - 1;
      afterRemoval = false;
      continue;
    }
    if (!inHunk) continue;
    if (line.startsWith("-")) {
      hunkLines.push(oldLine++);
      hunkHasChange = true;
      afterRemoval = true;
    } else if (line.startsWith("+")) {
      hunkHasChange = true;
      // An insertion replacing removed lines is located by them; one between context lines by the line before.
      if (!afterRemoval) hunkLines.push(Math.max(1, lastContext));
      afterRemoval = true;
    } else if (line.startsWith(" ") || line === "") {
      lastContext = oldLine++;
      afterRemoval = false;
    }
  }
  endHunk();
  for (const [p, hunks] of gold) if (hunks.length === 0) gold.delete(p);
  return gold;
}
