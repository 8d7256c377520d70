/**
 * Masks credentials before anything leaves for the model: first gitleaks' rules (secret-scanner.ts, the
 * same scan ingestion runs, so text from the index is already masked and this catches what a request
 * brings: prompts, conversation, logs, sandbox output), then these patterns — connection strings with a
 * password, bearer headers, `name = value` assignments whose name says secret — which gitleaks' entropy
 * and stopword rules let through. Each match becomes `[secret:<rule-id>]`.
 */
import { maskSecrets } from "./secret-scanner";

const PATTERNS: [kind: string, re: RegExp][] = [
  ["private-key", /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g],
  ["aws-access-key", /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g],
  ["github-token", /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g],
  ["anthropic-key", /\bsk-ant-[A-Za-z0-9_-]{20,}\b/g],
  ["openai-key", /\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}\b/g],
  ["stripe-key", /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b/g],
  ["slack-token", /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g],
  ["google-api-key", /\bAIza[0-9A-Za-z_-]{35}\b/g],
  ["jwt", /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g],
  ["bearer-token", /\b(Bearer\s+)[A-Za-z0-9._~+/-]{20,}=*/g],
  ["url-credentials", /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]{3,}(@)/gi],
  // A quoted literal assigned to a name that says secret (code and config), or an env-style
  // UPPER_CASE=value line; an expression such as `password = form.password` is left alone.
  [
    "assigned-secret",
    /\b((?:[A-Za-z0-9_]*?(?:secret|password|passwd|token|api_?key|private_?key|access_?key)[A-Za-z0-9_]*)["']?\s*[:=]\s*["'`])([^\s"'`]{8,})/gi,
  ],
  ["assigned-secret", /^(\s*(?:export\s+)?[A-Z0-9_]*(?:SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_KEY|ACCESS_KEY)[A-Z0-9_]*\s*=\s*)([^\s"'#]{8,})/gm],
];

export type Redaction = { text: string; found: Record<string, number> };

export function redactSecrets(text: string): Redaction {
  const scanned = maskSecrets(text);
  const found: Record<string, number> = { ...scanned.found };
  let out = scanned.text;
  for (const [kind, re] of PATTERNS) {
    out = out.replace(re, (...m: string[]) => {
      found[kind] = (found[kind] ?? 0) + 1;
      // Keep the prefix that names the secret (header, scheme, variable), mask only the value.
      if (kind === "bearer-token") return `${m[1]}[secret:${kind}]`;
      if (kind === "url-credentials") return `${m[1]}[secret:${kind}]${m[2]}`;
      if (kind === "assigned-secret") return /^\[secret:/.test(m[2] ?? "") ? (m[0] as string) : `${m[1]}[secret:${kind}]`;
      return `[secret:${kind}]`;
    });
  }
  return { text: out, found };
}
