/**
 * npm run secret-rules -- <gitleaks' config/gitleaks.toml> [version]: writes src/lib/security/gitleaks-rules.json,
 * the rules the secret scanner runs, from gitleaks' default configuration (https://github.com/gitleaks/gitleaks,
 * MIT licence, Copyright (c) 2019 Zachary Rice). Kept per rule: id, regex (RE2 syntax, run by re2js), the
 * secret's capture group, entropy, keywords and content allowlists; path-only rules and path or commit
 * allowlists are left out (the scanner reads text, not paths or history).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parse } from "smol-toml";

type Allow = { regexes?: string[]; stopwords?: string[]; regexTarget?: string; condition?: string };
type Rule = { id: string; regex?: string; secretGroup?: number; entropy?: number; keywords?: string[]; allowlists?: Allow[]; allowlist?: Allow };
type Config = { allowlist?: Allow; rules: Rule[] };

const [source, version = "v8.30.0"] = process.argv.slice(2);
if (!source) throw new Error("usage: npm run secret-rules -- <gitleaks.toml> [version]");
const config = parse(readFileSync(source, "utf8")) as unknown as Config;

const content = (a: Allow) => ({
  ...(a.regexes?.length ? { regexes: a.regexes } : {}),
  ...(a.stopwords?.length ? { stopwords: a.stopwords.map((s) => s.toLowerCase()) } : {}),
  ...(a.regexTarget ? { regexTarget: a.regexTarget } : {}),
  ...(a.condition ? { condition: a.condition.toUpperCase() } : {}),
});

const rules = config.rules
  .filter((r) => r.regex)
  .map((r) => ({
    id: r.id,
    regex: r.regex,
    ...(r.secretGroup ? { secretGroup: r.secretGroup } : {}),
    ...(r.entropy ? { entropy: r.entropy } : {}),
    keywords: (r.keywords ?? []).map((k) => k.toLowerCase()),
    allowlists: [...(r.allowlists ?? []), ...(r.allowlist ? [r.allowlist] : [])].map(content).filter((a) => a.regexes || a.stopwords),
  }));

const out = {
  source: `gitleaks ${version}, config/gitleaks.toml`,
  license: "MIT License, Copyright (c) 2019 Zachary Rice (https://github.com/gitleaks/gitleaks/blob/master/LICENSE)",
  generatedBy: "scripts/secret-rules.ts",
  allowlist: content(config.allowlist ?? {}),
  rules,
};
writeFileSync("src/lib/security/gitleaks-rules.json", `${JSON.stringify(out, null, 1)}\n`);
console.log(`${rules.length} rules written (${config.rules.length - rules.length} path-only rules left out)`);
