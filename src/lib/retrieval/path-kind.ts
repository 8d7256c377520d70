/**
 * What a path holds, by the conventions repositories follow: tests, a command's manual (man pages and
 * help texts, which change with its options), documentation, changelogs,
 * repository meta (issue templates, contributing guides, CI), examples, vendored or generated code,
 * translation catalogs (which repeat every message a program prints), configuration, or code. Bug reports share their words with all of them; the fix is nearly always
 * in code, so the ranking weighs the others down unless the prompt asks for them.
 */
export type PathKind = "code" | "test" | "manual" | "docs" | "changelog" | "meta" | "example" | "generated" | "translation" | "config";

// Source code by its extension: a convention of names or of a nested directory (`support.rs`, `changes.py`,
// `crates/core/flags/doc/help.rs`) does not make it prose.
const CODE = /\.(py|pyx|rs|go|[cm]?[jt]sx?|java|kt|scala|groovy|rb|php|cs|swift|c|cc|cpp|cxx|h|hh|hpp|m|mm|lua|ex|exs|dart|zig)$/i;

// Each rule: a kind, its pattern, and whether it holds for source code too (else only for other files).
const RULES: [PathKind, RegExp, "any" | "not code"][] = [
  [
    "generated",
    /(^|\/)(vendor|vendored|third_party|thirdparty|node_modules|bower_components|dist|build|out|target|\.yarn)\/|\.min\.(js|css)$|(^|\/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml|cargo\.lock|poetry\.lock|uv\.lock|go\.sum|composer\.lock|gemfile\.lock)$|-configuration\.d\.ts$|_pb2\.py$|\.pb\.go$|\.generated\.\w+$|(^|\/)generated\/|[-.]v?\d+\.\d+(\.\d+)?(\.min)?\.(js|css)$/i,
    "any",
  ],
  ["translation", /\.(po|pot|mo|xlf|xliff)$|(^|\/)(locales?|i18n|l10n|translations?|lang)\/[^/]*\.(json|ya?ml|properties|strings)$/i, "any"],
  [
    "meta",
    /(^|\/)\.github\/|(^|\/)(\.circleci|\.buildkite)\/|(^|\/)(\.travis\.yml|\.?appveyor\.yml|\.gitlab-ci\.yml|azure-pipelines\.yml|jenkinsfile|\.cirrus\.yml)$/i,
    "any",
  ],
  [
    "meta",
    /(^|\/)(contributing|code_of_conduct|security|support|governance|maintainers|authors|contributors|codeowners|license|licence|copying|notice)(\.\w+)?$/i,
    "not code",
  ],
  ["changelog", /(^|\/)(whatsnew|changelog\.d|changes|\.changeset|changelogs|newsfragments|release-notes)\//i, "any"],
  ["changelog", /(^|\/)(changelog|changes|history|news|release[-_]?notes|releases)(\.\w+)?$/i, "not code"],
  [
    "test",
    /(^|\/)(tests?|__tests__|testing|spec|specs|testdata|test_data|fixtures|__fixtures__|__snapshots__|regrtest_data|e2e|integration-tests)\/|(^|\/)test_[^/]*\.py$|_tests?\.(py|go|rb|exs?|cc|cpp|c)$|\.(test|spec)\.[cm]?[jt]sx?$|(^|\/)conftest\.py$|Tests?\.(java|kt|cs|swift)$|_spec\.rb$/i,
    "any",
  ],
  ["example", /(^|\/)(examples?|samples?|demos?|benchmarks?|bench|tutorials?|playground)\//i, "any"],
  // A man page (`doc/fd.1`, `assets/manual/bat.1.in`, `doc/rg.1.md`; not `release-2.0.1.rst`) or a help text (`doc/long-help.txt`).
  [
    "manual",
    /(^|\/)(docs?|documentation|man|manual)\/(.*\/)?[^/]*([a-z]\.[1-9](\.(in|md|txt|ronn|adoc|rst|xml))?|[-_.]help\.(txt|md))$|(^|\/)man\/[^/]+\.(rst|md|txt|adoc)$/i,
    "any",
  ],
  // A project's documentation tree holds its code too (`docs/conf.py`, gallery scripts); a `doc/` inside the source is code.
  ["docs", /^(docs?|documentation|site|website|man)\//i, "any"],
  ["docs", /(^|\/)(docs?|documentation|site|website|man)\/|\.(md|mdx|rst|adoc|txt|texi)$|(^|\/)readme(\.\w+)?$/i, "not code"],
  ["config", /(^|\/)\.[^/]+rc(\.\w+)?$|(^|\/)[^/]*\.(conf|config)\.[cm]?[jt]s$|\.(ya?ml|toml|ini|cfg)$|(^|\/)(makefile|dockerfile|pylintrc|tox\.ini)$/i, "any"],
];

/** Whether the path names source code by its extension. */
export function isSourceCode(path: string): boolean {
  return CODE.test(path);
}

export function pathKind(path: string): PathKind {
  const code = isSourceCode(path);
  for (const [kind, re, holds] of RULES) if ((holds === "any" || !code) && re.test(path)) return kind;
  return "code";
}

// How much a kind's chunks keep of their score when the prompt does not ask for that kind.
const PRIOR: Record<PathKind, number> = {
  code: 1,
  test: 0.35,
  manual: 0.3,
  docs: 0.3,
  changelog: 0.15,
  meta: 0.1,
  example: 0.4,
  generated: 0.1,
  translation: 0.1,
  config: 0.6,
};

// Prompts that ask for a kind: then it keeps most of its weight.
const ASKS: Partial<Record<PathKind, RegExp>> = {
  test: /\b(add|write|fix|update|missing|failing|flaky)\s+(an?\s+|the\s+)?(unit\s+|regression\s+)?tests?\b|\btest (suite|case|coverage)\b/i,
  // A command-line option (`-s`, `--squeeze-blank`) or the words for one.
  manual: /(^|[\s`'"([])--?[a-zA-Z][\w-]*|\b(options?|flags?|command[- ]line)\b/,
  docs: /\b(docs|documentation|docstring|readme|typo|tutorial)\b/i,
  changelog: /\b(changelog|release notes)\b/i,
  // "Example" in a report is mostly the reporter's own ("a minimal example", "for example"): only the
  // project's examples, as a path or as "the examples", ask for them.
  example: /(^|[\s`'"(])(examples?|demos?|samples?)\/|\b(the|our|your|its) (examples|demos|samples)\b/i,
  config: /\b(config(uration)?|settings?)\b/i,
  meta: /\b(github actions|ci (workflow|pipeline|config(uration)?|job|build)|workflow file|issue template)\b/i,
  translation: /\b(locales?|translations?|translated|i18n|l10n|gettext)\b/i,
};

// An asked kind keeps this much, unless it keeps more here: a manual keeps all, since it documents each option a
// prompt about one names.
const ASKED = 0.8;
const ASKED_KEEPS: Partial<Record<PathKind, number>> = { manual: 1 };

/** The weight each kind keeps for this prompt. */
export function kindWeights(prompt: string): Record<PathKind, number> {
  const out = { ...PRIOR };
  for (const [kind, re] of Object.entries(ASKS) as [PathKind, RegExp][]) if (re.test(prompt)) out[kind] = Math.max(out[kind], ASKED_KEEPS[kind] ?? ASKED);
  return out;
}
