/** Writes one marked section of docs/benchmarks.md, replacing the previous run's and keeping the rest. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";

const PATH = "docs/benchmarks.md";

/** Replaces `<!-- key:start -->…<!-- key:end -->`, or appends it (under `groupHeading`, added once). */
export function writeSection(key: string, lines: string[], groupHeading?: { title: string; intro: string }): void {
  let current = existsSync(PATH)
    ? readFileSync(PATH, "utf8")
    : "# Benchmarks\n\nWritten by `npm run bench` and `npm run eval`; each section is replaced by its own run.\n";
  const block = [`<!-- ${key}:start -->`, ...lines, `<!-- ${key}:end -->`].join("\n");
  const marker = new RegExp(`<!-- ${key}:start -->[\\s\\S]*<!-- ${key}:end -->`);
  if (marker.test(current)) current = current.replace(marker, block);
  else {
    if (groupHeading && !current.includes(groupHeading.title)) current = `${current.trimEnd()}\n\n${groupHeading.title}\n\n${groupHeading.intro}\n`;
    current = `${current.trimEnd()}\n\n${block}\n`;
  }
  mkdirSync("docs", { recursive: true });
  writeFileSync(PATH, current);
  console.log(block);
}
