/** The files changed between two commits, from the compare API (`GET /repos/{repo}/compare/{base}...{head}`). */
import { z } from "zod";
import { type GitHost, GitHostError, getFromHost, repoUrl } from "./request";

const ChangedFile = z.object({
  filename: z.string().min(1),
  status: z.enum(["added", "removed", "modified", "renamed", "copied", "changed", "unchanged"]),
  previous_filename: z.string().min(1).optional(),
});
export type ChangedFile = z.infer<typeof ChangedFile>;

const ComparePage = z.object({ files: z.array(ChangedFile).default([]) });
const CompareStatus = z.object({ status: z.enum(["ahead", "behind", "identical", "diverged"]) });
export type CommitOrder = z.infer<typeof CompareStatus>["status"];

const COMMIT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const PER_PAGE = 100;
// 50 pages of 100 is 5,000 files; GitHub itself lists at most 300 per comparison, so this bounds a host
// that pages forever, not a real push.
const MAX_PAGES = 50;

/**
 * How `head` stands to `base` in the repository: `behind` or `identical` when `head` is already in
 * `base`'s history. Null when the host does not know one of them in this repository (404).
 */
export async function commitOrder(host: GitHost, repo: string, base: string, head: string): Promise<CommitOrder | null> {
  if (!COMMIT_ID.test(base) || !COMMIT_ID.test(head)) throw new GitHostError(`compare needs two commit ids, got "${base}" and "${head}"`, 400, false);
  const url = repoUrl(host, repo, "compare", [`${base}...${head}`], { per_page: "1", page: "1" });
  const res = await getFromHost(host, url, "application/vnd.github+json", `compare ${repo} ${base}...${head}`);
  if (res === null) return null;
  const parsed = CompareStatus.safeParse(await res.json());
  if (!parsed.success) throw new GitHostError(`compare ${repo} ${base}...${head} has no status`, 502, false);
  return parsed.data.status;
}

/**
 * Every file changed from the merge base of `base` and `head` to `head`, reading pages of 100 until a
 * page lists fewer. Null when the host does not know one of the commits (404).
 */
export async function compareCommits(host: GitHost, repo: string, base: string, head: string): Promise<ChangedFile[] | null> {
  if (!COMMIT_ID.test(base) || !COMMIT_ID.test(head)) throw new GitHostError(`compare needs two commit ids, got "${base}" and "${head}"`, 400, false);
  const files: ChangedFile[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const url = repoUrl(host, repo, "compare", [`${base}...${head}`], { per_page: String(PER_PAGE), page: String(page) });
    const res = await getFromHost(host, url, "application/vnd.github+json", `compare ${repo} ${base}...${head} page ${page}`);
    if (res === null) return null;
    const parsed = ComparePage.safeParse(await res.json());
    if (!parsed.success) throw new GitHostError(`compare ${repo} page ${page} is not a comparison: ${parsed.error.issues[0]?.message}`, 502, false);
    files.push(...parsed.data.files);
    if (parsed.data.files.length < PER_PAGE) return files;
  }
  throw new GitHostError(`compare ${repo} ${base}...${head} lists more than ${MAX_PAGES * PER_PAGE} files`, 502, false);
}
