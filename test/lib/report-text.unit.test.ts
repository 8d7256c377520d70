import { describe, expect, it } from "vitest";
import { reportText } from "../../src/lib/retrieval/report-text";

describe("a bug report as retrieval reads it", () => {
  it("drops template comments and headings, keeps headings that name code", () => {
    const report = [
      "xfail marker added in a fixture is ignored",
      "<!-- Thanks for submitting an issue!",
      "Here's a quick checklist -->",
      "## Description",
      "With pytest 5.x, `request.node.add_marker(mark)` worked.",
      "**Is your feature request related to a problem? Please describe.**",
      "### `Session.resolve()` raises on a symlink",
      "<!-- an unclosed comment runs to the end",
      "tail text",
    ].join("\n");
    expect(reportText(report)).toBe(
      [
        "xfail marker added in a fixture is ignored",
        "",
        "With pytest 5.x, `request.node.add_marker(mark)` worked.",
        "### `Session.resolve()` raises on a symlink",
        "",
      ].join("\n"),
    );
  });

  it("drops package listings (pip list, cargo tree, npm ls), keeps a lone version and the traceback", () => {
    const report = [
      "It fails since pytest 6.0.0rc0 on Python 3.8.3.",
      "```",
      "$ pip list",
      "Package                       Version                         Location",
      "----------------------------- ------------------------------- --------------------------------------------------",
      "a                             1.0",
      "astropy                       4.0",
      "websocket-client              0.57.0",
      "pytest                        6.0.0rc2.dev33+g7f7a36478       /Users/me/src/pytest",
      "```",
      "├── mio v0.8.4",
      "├── bytes v1.2.1",
      "└── pin-project-lite v0.2.9",
      "+-- axios@1.2.0",
      "Traceback (most recent call last):",
      '  File "src/_pytest/skipping.py", line 258, in pytest_runtest_makereport',
      "    xfailed = item._store.get(xfailed_key, None)",
      "requests==2.25.1",
    ].join("\n");
    expect(reportText(report).split("\n")).toEqual([
      "It fails since pytest 6.0.0rc0 on Python 3.8.3.",
      "```",
      "$ pip list",
      "```",
      "Traceback (most recent call last):",
      '  File "src/_pytest/skipping.py", line 258, in pytest_runtest_makereport',
      "    xfailed = item._store.get(xfailed_key, None)",
      "requests==2.25.1",
    ]);
  });

  it("leaves a report without any of these as it is", () => {
    const plain = "Parser drops the last token\n\nfn parse(input: &str) -> Vec<Token> { ... }\nversion 1.2 of the crate";
    expect(reportText(plain)).toBe(plain);
  });
});
