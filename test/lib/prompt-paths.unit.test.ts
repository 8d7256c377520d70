import { describe, expect, it } from "vitest";
import { buildPathLookup } from "../../src/lib/index-store/path-lookup";
import { kindWeights, pathKind } from "../../src/lib/retrieval/path-kind";
import { mentionedPaths } from "../../src/lib/retrieval/prompt-paths";
import { askedOnce, errorPhrases, titleOf, weighedQueryTerms } from "../../src/lib/retrieval/terms";

const lookup = buildPathLookup([
  "astropy/io/fits/card.py",
  "astropy/io/fits/__init__.py",
  "astropy/units/core.py",
  "astropy/__init__.py",
  "docs/io/fits/card.rst",
  "src/index.js",
  "src/plugin/utc/index.js",
  "src/plugin/timezone/index.js",
  "src/plugin/duration/index.js",
  "src/plugin/week/index.js",
  "src/main/java/org/acme/util/Widget.java",
]);

describe("files a prompt names", () => {
  it("maps traceback frames of an installed copy to the project's files, with their lines", () => {
    const report = `Traceback (most recent call last):
  File "/home/me/.venv/lib/python3.11/site-packages/astropy/io/fits/card.py", line 1280, in _format_float
    value_str = f"{value:.16G}"
ValueError: bad`;
    expect(mentionedPaths(report, lookup)).toEqual([{ path: "astropy/io/fits/card.py", line: 1280 }]);
  });

  it("reads dotted module names and path:line, and ignores a bare name that many files share", () => {
    expect(mentionedPaths("astropy.units.core fails in astropy.io.fits; see src/plugin/utc/index.js:42 and index.js", lookup)).toEqual([
      { path: "src/plugin/utc/index.js", line: 42 },
      { path: "astropy/units/core.py" },
      { path: "astropy/io/fits/__init__.py" },
    ]);
  });

  it("reads a dotted name that goes on past its module to what the module holds", () => {
    expect(mentionedPaths("`astropy.units.core.Unit.to` and org.acme.util.Widget.build() fail; xr.where too", lookup)).toEqual([
      { path: "astropy/units/core.py" },
      { path: "src/main/java/org/acme/util/Widget.java" },
    ]);
  });
});

describe("path kinds", () => {
  it("tells code from tests, manuals, docs, changelogs, repository meta and CI, examples, generated and vendored files, translation catalogs and config", () => {
    const kinds = Object.fromEntries(
      [
        "src/lib/x.ts",
        "tests/test_card.py",
        "pkg/thing_test.go",
        "src/a.spec.ts",
        "src/test/java/FooTest.java",
        "docs/en/I18n.md",
        "README.md",
        "CHANGELOG.md",
        "doc/whatsnew/2.9.rst",
        ".github/ISSUE_TEMPLATE/bug.md",
        "examples/app.py",
        "vendor/lib.js",
        "static/app.min.js",
        "worker-configuration.d.ts",
        "setup.cfg",
        "sphinx/locale/da/LC_MESSAGES/sphinx.po",
        "sphinx/themes/basic/static/jquery-3.4.1.js",
        ".travis.yml",
        ".circleci/config.yml",
        "src/locale/es.js",
        "doc/fd.1",
        "doc/rg.1.md",
        "assets/manual/bat.1.in",
        "doc/long-help.txt",
        "doc/man/sphinx-build.rst",
        "doc/en/announce/release-2.0.1.rst",
        "resolver/manual/manual.go",
        "tokio/src/macros/support.rs",
        "sphinx/builders/changes.py",
        "crates/core/flags/doc/help.rs",
        "docs/conf.py",
        "SECURITY.md",
        "COPYING.LESSER",
        "CHANGES",
      ].map((p) => [p, pathKind(p)]),
    );
    expect(kinds).toEqual({
      "src/lib/x.ts": "code",
      "tests/test_card.py": "test",
      "pkg/thing_test.go": "test",
      "src/a.spec.ts": "test",
      "src/test/java/FooTest.java": "test",
      "docs/en/I18n.md": "docs",
      "README.md": "docs",
      "CHANGELOG.md": "changelog",
      "doc/whatsnew/2.9.rst": "changelog",
      ".github/ISSUE_TEMPLATE/bug.md": "meta",
      "examples/app.py": "example",
      "vendor/lib.js": "generated",
      "static/app.min.js": "generated",
      "worker-configuration.d.ts": "generated",
      "setup.cfg": "config",
      "sphinx/locale/da/LC_MESSAGES/sphinx.po": "translation",
      "sphinx/themes/basic/static/jquery-3.4.1.js": "generated",
      ".travis.yml": "meta",
      ".circleci/config.yml": "meta",
      "src/locale/es.js": "code",
      "doc/fd.1": "manual",
      "doc/rg.1.md": "manual",
      "assets/manual/bat.1.in": "manual",
      "doc/long-help.txt": "manual",
      "doc/man/sphinx-build.rst": "manual",
      "doc/en/announce/release-2.0.1.rst": "docs",
      "resolver/manual/manual.go": "code",
      // Source code is prose only under a project's documentation tree, not by its name or a nested doc/.
      "tokio/src/macros/support.rs": "code",
      "sphinx/builders/changes.py": "code",
      "crates/core/flags/doc/help.rs": "code",
      "docs/conf.py": "docs",
      "SECURITY.md": "meta",
      "COPYING.LESSER": "meta",
      CHANGES: "changelog",
    });
  });

  it("keeps a kind's weight when the prompt asks for it", () => {
    expect(kindWeights("the parser crashes on empty input").docs).toBeLessThan(0.5);
    expect(kindWeights("fix the typo in the docs for parse()").docs).toBeGreaterThanOrEqual(0.8);
    expect(kindWeights("please add a regression test for the parser").test).toBeGreaterThanOrEqual(0.8);
    // A reporter's own example asks for nothing; the project's examples do.
    expect(kindWeights("Minimal example: for example, parse('') raises").example).toBeLessThan(0.5);
    expect(kindWeights("the code in examples/hello.rs no longer builds").example).toBeGreaterThanOrEqual(0.8);
    expect(kindWeights("none of the examples compile").example).toBeGreaterThanOrEqual(0.8);
  });

  it("keeps a command's manual whole when the prompt names a command-line option", () => {
    expect(kindWeights("results come back in a random order").manual).toBeLessThan(0.5);
    for (const prompt of ["Add --min-depth like find has", "`fd -u` should search everything", "an option to limit the results"])
      expect(kindWeights(prompt).manual).toBe(1);
    // Naming an option asks for the manual, not for documentation at large.
    expect(kindWeights("Add --min-depth like find has").docs).toBeLessThan(0.5);
  });
});

describe("a prompt's search terms", () => {
  it("keeps the terms the index holds, drops common ones, and weighs the rest by rarity and repeats", () => {
    const df = new Map([
      ["parser", 400],
      ["tokenize_header", 2],
      ["timeout", 40],
      ["header", 90],
      ["utf8", 7],
      ["bytes", 60],
    ]);
    const terms = weighedQueryTerms("The parser fails in tokenize_header on utf8 bytes after a timeout, header mangled, reported by zyxwv", () => ({
      chunks: 1000,
      df,
    }));
    // "header", said twice, goes before the rarer "timeout" and "bytes".
    expect(terms).toEqual(["tokenize_header", "utf8", "header", "timeout", "bytes"]);
    expect(terms).not.toContain("parser");
    expect(terms).not.toContain("zyxwv");
  });

  it("asks the index about each term once, however many selections read it", () => {
    const asked: string[][] = [];
    const stats = askedOnce((terms) => {
      asked.push(terms);
      return { chunks: 100, df: new Map(terms.map((t) => [t, 3])) };
    });
    const report = "renderFrame drops alpha\n\nthe frame loses its alpha channel in renderFrame";
    const all = weighedQueryTerms(report, stats);
    const title = weighedQueryTerms(titleOf(report), stats);
    expect(title.every((t) => all.includes(t))).toBe(true);
    expect(asked).toHaveLength(1);
  });

  it("weighs a report's title over its body", () => {
    const df = new Map([
      ["xfail", 30],
      ["marker", 30],
      ["pyflakes", 1],
      ["websocket", 1],
    ]);
    const report = "Dynamically adding xfail marker no longer ignores failure\n\nMy environment has pyflakes and websocket installed.";
    const stats = () => ({ chunks: 1000, df });
    expect(weighedQueryTerms(report, stats, 2).sort()).toEqual(["marker", "xfail"]);
    // The same words on one line: no title, so the rarest win.
    expect(weighedQueryTerms(report.replace(/\n/g, " "), stats, 2).sort()).toEqual(["pyflakes", "websocket"]);
    expect(titleOf(report)).toBe("Dynamically adding xfail marker no longer ignores failure");
    expect(titleOf("one line only")).toBe("");
  });
});

describe("error messages a prompt quotes", () => {
  it("takes the longest runs of plain words from error lines, leaving out quoted values, numbers and paths", () => {
    const report = `Running it fails:
Traceback (most recent call last):
  File "x.py", line 3, in <module>
ValueError: Cannot convert 'abc' to a float value for column 7 in /tmp/data.csv
error[E0277]: the trait bound \`Foo: Serialize\` is not satisfied
panic: runtime error: index out of range [3] with length 3
Nothing else here: just words`;
    expect(errorPhrases(report)).toEqual(["to a float value for column", "the trait bound", "is not satisfied", "index out of range"]);
  });
});
