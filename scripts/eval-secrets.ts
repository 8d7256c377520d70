/**
 * npm run eval:secrets -- <dir of gitleaks' cmd/generate/config (its rules/ and utils/)> [version]:
 * measures the secret scanner on gitleaks' own samples. Each rule's file there lists true positives (often
 * generated: `secrets.NewSecret(regex)` draws a random string of the regex, `GenerateSampleSecrets` puts a
 * secret in ~30 file formats) and false positives; this evaluates those Go expressions (literals,
 * concatenation, the pattern helpers, random strings from a regex), runs `findSecrets` on each sample, and
 * writes recall (a sample found by its own rule, and by any rule) and false positives (a sample flagged by
 * its own rule — gitleaks' own count is 0 by construction) to docs/benchmarks.md. Samples it cannot
 * evaluate are counted, not guessed.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { findSecrets } from "../src/lib/security/secret-scanner";
import { writeSection } from "./benchmarks-doc";
import { machineLine } from "./soak/report";

const [dir, version = "v8.30.0"] = process.argv.slice(2);
if (!dir) throw new Error("usage: npm run eval:secrets -- <gitleaks cmd/generate/config dir> [version]");

// ---- random strings from a (simple) regex, as gitleaks' secrets.NewSecret does -------------------------
let seed = 12345;
const rand = (n: number): number => {
  seed = (Math.imul(seed ^ (seed >>> 15), 2246822507) + 0x6d2b79f5) >>> 0;
  return seed % n;
};

function fromRegex(src: string): string {
  let i = 0;
  const atom = (): (() => string) => {
    const c = src[i++] as string;
    if (c === "(") {
      if (src.startsWith("?:", i)) i += 2;
      else if (src.startsWith("?i", i)) i += src[i + 2] === ")" ? 3 : 3;
      const branches: (() => string)[][] = [[]];
      while (i < src.length && src[i] !== ")") {
        if (src[i] === "|") {
          i++;
          branches.push([]);
          continue;
        }
        branches[branches.length - 1]?.push(quantified());
      }
      i++;
      return () => (branches[rand(branches.length)] ?? []).map((f) => f()).join("");
    }
    if (c === "[") {
      const chars: string[] = [];
      let negate = false;
      if (src[i] === "^") {
        negate = true;
        i++;
      }
      while (src[i] !== "]") {
        let ch = src[i++] as string;
        if (ch === "\\") ch = escapeClass(src[i++] as string, chars);
        if (ch === "") continue;
        if (src[i] === "-" && src[i + 1] !== "]") {
          const to = src[i + 1] === "\\" ? (src[i + 2] as string) : (src[i + 1] as string);
          i += src[i + 1] === "\\" ? 3 : 2;
          for (let k = ch.charCodeAt(0); k <= to.charCodeAt(0); k++) chars.push(String.fromCharCode(k));
        } else chars.push(ch);
      }
      i++;
      const pool = negate ? "abcdefghijklmnopqrstuvwxyz0123456789".split("").filter((x) => !chars.includes(x)) : chars;
      return () => pool[rand(pool.length)] ?? "";
    }
    if (c === "\\") {
      const e = src[i++] as string;
      const pool: string[] = [];
      const lit = escapeClass(e, pool);
      return pool.length > 0 ? () => pool[rand(pool.length)] ?? "" : () => lit;
    }
    if (c === "^" || c === "$") return () => "";
    if (c === ".") return () => "abcdefghijklmnopqrstuvwxyz0123456789"[rand(36)] ?? "a";
    return () => c;
  };
  const quantified = (): (() => string) => {
    const a = atom();
    const q = /^(\{(\d+)(,(\d*))?\}|\?|\*|\+)/.exec(src.slice(i));
    if (!q) return a;
    i += q[0].length;
    const min = q[2] !== undefined ? Number(q[2]) : q[0] === "+" ? 1 : 0;
    const max = q[2] !== undefined ? (q[3] === undefined ? min : q[4] ? Number(q[4]) : min + 8) : q[0] === "?" ? 1 : min + 8;
    if (src[i] === "?") i++;
    return () => {
      const n = min + rand(max - min + 1);
      let s = "";
      for (let k = 0; k < n; k++) s += a();
      return s;
    };
  };
  const parts: (() => string)[] = [];
  while (i < src.length) parts.push(quantified());
  return parts.map((f) => f()).join("");
}

function escapeClass(e: string, pool: string[]): string {
  const add = (s: string) => {
    pool.push(...s.split(""));
    return "";
  };
  if (e === "d") return add("0123456789");
  if (e === "w") return add("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
  if (e === "s") return add(" ");
  return e;
}

// ---- Go expressions of the rules' validation code -------------------------------------------------------
type Value = string | string[] | undefined;
const templates = (() => {
  const src = readFileSync(join(dir, "utils", "generate.go"), "utf8");
  const body = src.slice(src.indexOf("func GenerateSampleSecrets"), src.indexOf("replacer :="));
  return [...body.matchAll(/^\s*"[^"]+":\s*("(?:[^"\\]|\\.)*"|`[^`]*`),/gm)].map((m) => goString(m[1] as string));
})();
const helpers: Record<string, (arg: string) => string> = {
  Numeric: (n) => `[0-9]{${n}}`,
  Hex: (n) => `[a-f0-9]{${n}}`,
  AlphaNumeric: (n) => `[a-z0-9]{${n}}`,
  AlphaNumericExtendedShort: (n) => `[a-z0-9_-]{${n}}`,
  AlphaNumericExtended: (n) => `[a-z0-9=_\\-]{${n}}`,
  AlphaNumericExtendedLong: (n) => `[a-z0-9\\/=_\\+\\-]{${n}}`,
  Hex8_4_4_4_12: () => "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
};

function goString(lit: string): string {
  if (lit.startsWith("`")) return lit.slice(1, -1);
  return JSON.parse(lit.replace(/\\x([0-9a-fA-F]{2})/g, "\\u00$1")) as string;
}

class Unsupported extends Error {}

/** Evaluates `expr` (literals, +, the helpers above); throws Unsupported for anything else. */
function evaluate(expr: string): Value {
  const tokens = expr.match(/`[^`]*`|"(?:[^"\\]|\\.)*"|[\w.]+\(|\)|,|\+|\.\.\./g) ?? [];
  let p = 0;
  const parseSum = (): Value => {
    let v = parseCall();
    while (tokens[p] === "+") {
      p++;
      const r = parseCall();
      if (typeof v !== "string" || typeof r !== "string") throw new Unsupported("+ of non-strings");
      v += r;
    }
    return v;
  };
  const parseCall = (): Value => {
    const t = tokens[p++];
    if (t === undefined) throw new Unsupported("end");
    if (t.startsWith("`") || t.startsWith('"')) return goString(t);
    if (!t.endsWith("(")) throw new Unsupported(t);
    const name = t.slice(0, -1);
    const args: Value[] = [];
    while (tokens[p] !== ")") {
      args.push(parseSum());
      if (tokens[p] === ",") p++;
      else if (tokens[p] !== ")") throw new Unsupported(`in ${name}: ${tokens[p]}`);
    }
    p++;
    const [a, b] = args;
    const short = name.split(".").pop() as string;
    if (short === "NewSecret" && typeof a === "string") return fromRegex(a);
    if (short === "GenerateSampleSecret" && typeof a === "string" && typeof b === "string") return `${a}_api_token = "${b}"`;
    if (short === "GenerateSampleSecrets" && typeof a === "string" && typeof b === "string") {
      return templates.map((tpl) => tpl.replaceAll("{i}", a).replaceAll("{I}", a.toUpperCase()).replaceAll("{s}", b));
    }
    const helper = helpers[short];
    if (helper && name.startsWith("utils.")) return helper(typeof a === "string" ? a : "");
    throw new Unsupported(name);
  };
  const v = parseSum();
  if (p < tokens.length && tokens[p] !== "...") throw new Unsupported(`trailing ${tokens[p]}`);
  return v;
}

/** The elements of a Go `[]string{ ... }` body, split at top-level commas. */
function elements(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === "`") {
      const j = body.indexOf("`", i + 1);
      if (j === -1) break;
      cur += body.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < body.length && body[j] !== '"') j += body[j] === "\\" ? 2 : 1;
      cur += body.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === "/" && body[i + 1] === "/") {
      i = body.indexOf("\n", i);
      if (i === -1) break;
      continue;
    }
    if (c === "(" || c === "{") depth++;
    if (c === ")" || c === "}") depth--;
    if (c === "," && depth === 0) {
      if (cur.trim()) out.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

type Tally = { samples: number; ownRule: number; anyRule: number; skipped: number };
const tp: Tally = { samples: 0, ownRule: 0, anyRule: 0, skipped: 0 };
const fp = { samples: 0, flaggedByOwnRule: 0, skipped: 0 };
const missed: string[] = [];

function collect(list: string, into: string[], kind: "tp" | "fp"): void {
  for (const e of elements(list)) {
    try {
      const v = evaluate(e);
      if (typeof v === "string") into.push(v);
      else if (Array.isArray(v)) into.push(...v);
    } catch (err) {
      if (!(err instanceof Unsupported)) throw err;
      if (kind === "tp") tp.skipped++;
      else fp.skipped++;
    }
  }
}

const rulesDir = join(dir, "rules");
for (const file of readdirSync(rulesDir).filter((f) => f.endsWith(".go") && !f.endsWith("_test.go"))) {
  const src = readFileSync(join(rulesDir, file), "utf8");
  for (const fn of src.split(/^func /m).slice(1)) {
    const id = /RuleID:\s*"([^"]+)"/.exec(fn)?.[1];
    if (!id) continue;
    const tps: string[] = [];
    const fps: string[] = [];
    for (const m of fn.matchAll(/\btps\s*:?=\s*(append\(tps,\s*)?/g)) {
      const start = (m.index ?? 0) + m[0].length;
      if (fn.startsWith("[]string{", start)) {
        const end = fn.indexOf("\n\t}", start);
        collect(fn.slice(start + "[]string{".length, end), tps, "tp");
      } else {
        const end = fn.indexOf("\n", start);
        let line = fn
          .slice(start, end)
          .replace(/\s*\/\/.*$/, "")
          .trim();
        // `tps = append(tps, expr...)`: the expression without the spread and append's parenthesis.
        if (m[1]) line = line.replace(/(\.\.\.)?\)$/, "");
        collect(line, tps, "tp");
      }
    }
    for (const m of fn.matchAll(/\bfps\s*:?=\s*(append\(fps,\s*)?\[\]string\{/g)) {
      const start = (m.index ?? 0) + m[0].length;
      collect(fn.slice(start, fn.indexOf("\n\t}", start)), fps, "fp");
    }
    for (const s of tps) {
      tp.samples++;
      const found = findSecrets(s);
      if (found.some((f) => f.ruleId === id)) tp.ownRule++;
      if (found.length > 0) tp.anyRule++;
      else if (missed.length < 40) missed.push(`${id}: ${s.slice(0, 100).replace(/\n/g, "\\n")}`);
    }
    for (const s of fps) {
      fp.samples++;
      if (findSecrets(s).some((f) => f.ruleId === id)) fp.flaggedByOwnRule++;
    }
  }
}

const pct = (n: number, d: number) => `${((100 * n) / Math.max(1, d)).toFixed(1)}%`;
// Cost: the scanner over 1 MB inputs of several shapes.
const inputs: [string, string][] = [
  [
    "source code (this repository's src/, repeated)",
    readdirSync("src/lib/assembly")
      .map((f) => readFileSync(join("src/lib/assembly", f), "utf8"))
      .join("\n")
      .repeat(8)
      .slice(0, 1 << 20),
  ],
  ["1 MB of one character", "a".repeat(1 << 20)],
  ["`key=` repeated (every position a candidate)", "key=".repeat(1 << 18)],
  ["`password = ` lines of 200 characters", `${"password = ".padEnd(200, "x")}\n`.repeat((1 << 20) / 201)],
];
const costs = inputs.map(([name, text]) => {
  const t0 = performance.now();
  const found = findSecrets(text);
  return `| ${name} | ${Math.round(performance.now() - t0)} ms | ${found.length} |`;
});

writeSection("secrets", [
  "## Secret detection (`npm run eval:secrets`)",
  "",
  `Measured ${machineLine()}, Node (the same library code the Worker runs). Rules: gitleaks ${version}'s default configuration (221 content rules), run by re2js. Samples: the true and false positives in gitleaks' own rule definitions (cmd/generate/config/rules), with their generated secrets drawn from the same regexes.`,
  "",
  "| | samples | result |",
  "| --- | --- | --- |",
  `| true positives found by their own rule | ${tp.samples} | ${tp.ownRule} (${pct(tp.ownRule, tp.samples)}) |`,
  `| true positives found by any rule (masked either way) | ${tp.samples} | ${tp.anyRule} (${pct(tp.anyRule, tp.samples)}) |`,
  `| false positives flagged by their own rule (gitleaks: 0) | ${fp.samples} | ${fp.flaggedByOwnRule} |`,
  `| samples not evaluated (Go expressions this script does not evaluate) | | ${tp.skipped} true, ${fp.skipped} false |`,
  "",
  "Cost of one scan of 1 MB:",
  "",
  "| input | time | findings |",
  "| --- | --- | --- |",
  ...costs,
  "",
  ...(missed.length > 0 ? ["True positives missed (first 40):", "", ...missed.map((m) => `- \`${m.replace(/`/g, "'")}\``), ""] : []),
]);
