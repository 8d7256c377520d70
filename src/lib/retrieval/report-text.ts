/**
 * A prompt as retrieval reads it: a bug report without the parts that name nothing in the code. Issue
 * templates leave their instructions in HTML comments and their headings ("## Versions", "**Describe
 * the solution you'd like**"), and reporters paste the packages they have installed (`pip list`,
 * `npm ls`, `cargo tree`): words that are rare in the project, so they would take the query's rarest
 * terms from the words of the code at fault. The text sent to the model is the prompt as written.
 */

const COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
// A heading or a line that is only bold text, as issue templates write their questions.
const HEADING = /^\s{0,3}(?:#{1,6}\s+(.*)|\*\*([^*]+)\*\*:?\s*)$/;
// What makes a heading name code: an identifier with a case change or underscore, a call, a path, a quote.
const CODE_LIKE = /[a-z][A-Z]|_|\(|\/|`|\.\w|::/;
// A package and its version, with an optional location: `astropy 4.0`, `requests==2.25.1`, `├── mio v0.8.4`,
// `+-- axios@1.2.0`, `github.com/pkg/errors v0.9.1`.
const PACKAGE_LINE = /^[\s|│├└─+`\\-]*[\w@][\w.@/\-[\]]*\s*(?:==|>=|<=|~=|@|:)?\s*v?\d+\.\d+[\w.\-+]*(?:\s+\S+)?\s*$/;
// The header and rule of a `pip list` table.
const TABLE_RULE = /^\s*(?:-{3,}\s*)+$|^\s*Package\s+Version\b/;
// A listing is this many package lines in a row or more; one or two version lines stay (they may be the point).
const MIN_LISTING = 3;

export function reportText(prompt: string): string {
  const lines = prompt.replace(COMMENT, "").split("\n");
  const keep = lines.map((line) => {
    if (TABLE_RULE.test(line)) return false;
    const h = HEADING.exec(line);
    return !h || CODE_LIKE.test(h[1] ?? h[2] ?? "");
  });
  // Runs of package lines go; so does the blank or rule line between two parts of one listing.
  for (let i = 0; i < lines.length; ) {
    let j = i;
    while (j < lines.length && PACKAGE_LINE.test(lines[j] as string)) j++;
    if (j - i >= MIN_LISTING) keep.fill(false, i, j);
    i = j > i ? j : i + 1;
  }
  return lines.filter((_, i) => keep[i]).join("\n");
}
