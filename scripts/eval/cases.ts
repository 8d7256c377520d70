/**
 * Bug-report cases from public data sets, in one shape: the report's text (the issue as its reporter
 * wrote it), the repository and commit it was filed against, and the patch that fixed it.
 * Read: SWE-bench rows (`instance_id`, `repo`, `base_commit`, `problem_statement`, `patch` or
 * `golden_patch`) as JSON arrays or JSON lines, and Multi-SWE-bench rows (`org`, `repo`, `base.sha`,
 * `resolved_issues[].title/body`, `fix_patch`) as JSON lines.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";

export type Case = { id: string; repo: string; commit: string; prompt: string; patch: string };

const sweBench = z.object({
  instance_id: z.string(),
  repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/),
  base_commit: z.string().regex(/^[0-9a-f]{40}$/),
  problem_statement: z.string().min(1),
  patch: z.string().optional(),
  golden_patch: z.string().optional(),
});

const multiSweBench = z.object({
  org: z.string(),
  repo: z.string(),
  number: z.number(),
  title: z.string().nullish(),
  body: z.string().nullish(),
  base: z.object({ sha: z.string().regex(/^[0-9a-f]{40}$/) }),
  resolved_issues: z.array(z.object({ title: z.string().nullish(), body: z.string().nullish() })),
  fix_patch: z.string().min(1),
});

function toCase(row: unknown): Case | undefined {
  const s = sweBench.safeParse(row);
  if (s.success) {
    const patch = s.data.patch ?? s.data.golden_patch;
    return patch ? { id: s.data.instance_id, repo: s.data.repo, commit: s.data.base_commit, prompt: s.data.problem_statement, patch } : undefined;
  }
  const m = multiSweBench.safeParse(row);
  if (!m.success) return undefined;
  // The issues the pull request resolved, as their reporters wrote them; the request's own text only when it names none.
  const issues = m.data.resolved_issues.map((i) => `${i.title ?? ""}\n\n${i.body ?? ""}`.trim()).filter(Boolean);
  const prompt = issues.length > 0 ? issues.join("\n\n") : `${m.data.title ?? ""}\n\n${m.data.body ?? ""}`.trim();
  return prompt
    ? { id: `${m.data.org}__${m.data.repo}-${m.data.number}`, repo: `${m.data.org}/${m.data.repo}`, commit: m.data.base.sha, prompt, patch: m.data.fix_patch }
    : undefined;
}

/** The cases of one data file; rows of other shapes are counted, not fatal. */
export function readCases(path: string): { cases: Case[]; skipped: number } {
  const text = readFileSync(path, "utf8");
  const rows: unknown[] = text.trimStart().startsWith("[")
    ? (JSON.parse(text) as unknown[])
    : text
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as unknown);
  const cases: Case[] = [];
  for (const r of rows) {
    const c = toCase(r);
    if (c) cases.push(c);
  }
  return { cases, skipped: rows.length - cases.length };
}

/** At most `n` cases per repository, spread evenly over each one's cases in id order (the same every run). */
export function perRepository(cases: Case[], n: number): Case[] {
  const byRepo = new Map<string, Case[]>();
  for (const c of [...cases].sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true }))) {
    const list = byRepo.get(c.repo) ?? [];
    list.push(c);
    byRepo.set(c.repo, list);
  }
  return [...byRepo.values()].flatMap((list) =>
    list.length <= n ? list : Array.from({ length: n }, (_, i) => list[Math.floor((i * list.length) / n)] as Case),
  );
}
