/** A run's recorded input in R2 (`input.json`): the snapshot it reads and the change over it, never the tree's text. */
import { z } from "zod";
import { Install, RunLimits } from "./runner/protocol";

const Entry = z.object({ path: z.string().min(1), content: z.string() });

export const StoredInput = z.object({
  snapshotId: z.string().min(1),
  overlay: z.object({ files: z.array(Entry), deletions: z.array(z.string().min(1)) }),
  commands: z.array(z.string().min(1)).min(1),
  /** The install phase, when the project has lockfiles or install commands (absent in runs recorded before it). */
  install: Install.optional(),
  limits: RunLimits,
});
export type StoredInput = z.infer<typeof StoredInput>;

/** Inputs recorded before snapshots by reference: the whole tree inline. Still replayable. */
export const LegacyInput = z.object({
  files: z.array(Entry),
  links: z.array(z.object({ path: z.string().min(1), target: z.string().min(1) })).optional(),
  commands: z.array(z.string().min(1)).min(1),
  limits: RunLimits,
});
