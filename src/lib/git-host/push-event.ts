/** The parts of a GitHub push event we use, and the net file changes it carries. */
import { z } from "zod";

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
  repository: z.object({ full_name: z.string().min(3), default_branch: z.string().optional(), master_branch: z.string().optional() }),
  commits: z.array(Commit).default([]),
});
export type PushEvent = z.infer<typeof PushEvent>;

/** Paths to (re)fetch and paths to drop, applying the commits in order. */
export function netChanges(event: PushEvent): { upserts: string[]; removals: string[] } {
  const state = new Map<string, "present" | "removed">();
  for (const c of event.commits) {
    for (const p of [...c.added, ...c.modified]) state.set(p, "present");
    for (const p of c.removed) state.set(p, "removed");
  }
  const upserts: string[] = [];
  const removals: string[] = [];
  for (const [p, s] of state) (s === "present" ? upserts : removals).push(p);
  return { upserts, removals };
}
