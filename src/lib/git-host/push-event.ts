/** The parts of a GitHub push event we use, and the net file changes it carries. */
import { z } from "zod";
import { type ChangedFile, compareCommits } from "./compare";
import type { GitHost } from "./request";

const Commit = z.object({
  id: z.string(),
  added: z.array(z.string()).default([]),
  removed: z.array(z.string()).default([]),
  modified: z.array(z.string()).default([]),
});

export const PushEvent = z.object({
  ref: z.string(),
  before: z.string(),
  after: z.string(),
  deleted: z.boolean().default(false),
  forced: z.boolean().default(false),
  /** Commits in the push, where the payload says so (the Events API form); more than `commits` lists means a cut list. */
  size: z.number().int().min(0).optional(),
  repository: z.object({ full_name: z.string().min(3), default_branch: z.string().optional(), master_branch: z.string().optional() }),
  commits: z.array(Commit).default([]),
});
export type PushEvent = z.infer<typeof PushEvent>;

export type Changes = { upserts: string[]; removals: string[] };

// GitHub puts at most 2048 commits in a push payload; a push with more lists only the first ones.
export const MAX_PAYLOAD_COMMITS = 2048;

/** Paths to (re)fetch and paths to drop, applying the commits in order. */
export function netChanges(event: PushEvent): Changes {
  const state = new Map<string, "present" | "removed">();
  for (const c of event.commits) {
    for (const p of [...c.added, ...c.modified]) state.set(p, "present");
    for (const p of c.removed) state.set(p, "removed");
  }
  return split(state);
}

/** Why the payload's own file lists cannot be trusted, or undefined when they can (or nothing better exists). */
export function compareReason(event: PushEvent): string | undefined {
  // A new branch has no `before` to compare with; its payload lists are all there is.
  if (/^0+$/.test(event.before)) return undefined;
  if (event.forced) return "a forced push";
  if (event.commits.length >= MAX_PAYLOAD_COMMITS) return `a push of ${MAX_PAYLOAD_COMMITS} commits or more`;
  if (event.size !== undefined && event.size > event.commits.length) return `a payload listing ${event.commits.length} of ${event.size} commits`;
  return undefined;
}

/**
 * The changes of a push: from the compare API when the payload's lists are cut or the push rewrote
 * history, from the payload otherwise (or when the host does not know `before`).
 */
export async function pushChanges(host: GitHost, event: PushEvent): Promise<Changes & { source: "payload" | "compare" }> {
  if (compareReason(event) === undefined) return { ...netChanges(event), source: "payload" };
  const repo = event.repository.full_name;
  const forward = await compareCommits(host, repo, event.before, event.after);
  if (forward === null) return { ...netChanges(event), source: "payload" };
  const state = new Map<string, "present" | "removed">();
  applyCompare(state, forward);
  if (event.forced) {
    // base...head diffs from the merge base, so files touched only by the commits a forced push
    // dropped are missed; the reverse comparison lists them. Each is fetched at `after` (a 404 removes it).
    const dropped = await compareCommits(host, repo, event.after, event.before);
    for (const f of dropped ?? []) {
      for (const p of [f.filename, f.previous_filename]) if (p !== undefined && !state.has(p)) state.set(p, "present");
    }
  }
  return { ...split(state), source: "compare" };
}

function applyCompare(state: Map<string, "present" | "removed">, files: ChangedFile[]): void {
  for (const f of files) {
    if (f.status === "unchanged") continue;
    if (f.status === "renamed" && f.previous_filename !== undefined && !state.has(f.previous_filename)) state.set(f.previous_filename, "removed");
    state.set(f.filename, f.status === "removed" ? "removed" : "present");
  }
}

function split(state: Map<string, "present" | "removed">): Changes {
  const upserts: string[] = [];
  const removals: string[] = [];
  for (const [p, s] of state) (s === "present" ? upserts : removals).push(p);
  return { upserts, removals };
}
