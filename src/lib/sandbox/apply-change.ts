/** Applies a proposed change (whole files, deletions and unified diffs) to a tree, all or nothing. */
import { z } from "zod";
import { safePath } from "../archive";
import { AppError } from "../errors";
import { applyFilePatch, parseUnifiedDiff } from "./unified-diff";

export const Change = z.object({
  files: z.array(z.object({ path: z.string().min(1).max(1024), content: z.string() })).default([]),
  deletions: z.array(z.string().min(1).max(1024)).default([]),
  diff: z
    .string()
    .max(20 * 1024 * 1024)
    .optional(),
});
export type Change = z.infer<typeof Change>;

export type Tree = Map<string, string>;

/** The tree after the change, and the paths it touched; the input tree is not modified. */
export function applyChange(tree: Tree, change: Change): { tree: Tree; changed: string[] } {
  const next = new Map(tree);
  const changed = new Set<string>();
  for (const f of change.files) {
    const path = safePath(f.path);
    next.set(path, f.content);
    changed.add(path);
  }
  for (const raw of change.deletions) {
    const path = safePath(raw);
    if (!next.delete(path)) throw new AppError(422, "patch_failed", `${path}: cannot delete a file that does not exist`);
    changed.add(path);
  }
  if (change.diff) {
    for (const patch of parseUnifiedDiff(change.diff)) {
      const path = patch.newPath ?? patch.oldPath;
      if (!path) continue;
      if (patch.oldPath !== null && !next.has(patch.oldPath))
        throw new AppError(422, "patch_failed", `${patch.oldPath}: the diff changes a file that does not exist`);
      if (patch.oldPath === null && next.has(path)) throw new AppError(422, "patch_failed", `${path}: the diff creates a file that already exists`);
      const result = applyFilePatch(path, patch.oldPath === null ? "" : (next.get(patch.oldPath) as string), patch);
      if (patch.oldPath !== null && patch.oldPath !== patch.newPath) {
        next.delete(patch.oldPath);
        changed.add(patch.oldPath);
      }
      if (patch.newPath === null) next.delete(path);
      else next.set(patch.newPath, result);
      changed.add(path);
    }
  }
  return { tree: next, changed: [...changed].sort() };
}
