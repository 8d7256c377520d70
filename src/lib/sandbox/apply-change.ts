/** Applies a proposed change (whole files, deletions and unified diffs) to a tree, all or nothing. */
import { z } from "zod";
import { safePath } from "../archive";
import { AppError } from "../errors";
import { applyFilePatch, type FilePatch, parseUnifiedDiff } from "./unified-diff";

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
  if (change.diff) applyDiff(next, parseUnifiedDiff(change.diff), changed);
  return { tree: next, changed: [...changed].sort() };
}

/**
 * Applies a diff's file patches to `tree` in place. Renamed and copied files are read as they were before
 * the diff, so a swap (a → b with b → a) works; a file changed twice in one diff gets both changes in order.
 */
function applyDiff(tree: Tree, patches: FilePatch[], changed: Set<string>): void {
  const before = new Map(tree);
  const writes = new Map<string, string>();
  const removed = new Set<string>();
  for (const patch of patches) {
    const name = patch.newPath ?? patch.oldPath ?? "";
    let source = "";
    if (patch.oldPath !== null) {
      const moved = patch.kind === "rename" || patch.kind === "copy";
      const current = moved ? before.get(patch.oldPath) : (writes.get(patch.oldPath) ?? (removed.has(patch.oldPath) ? undefined : before.get(patch.oldPath)));
      if (current === undefined) throw new AppError(422, "patch_failed", `${patch.oldPath}: the diff changes a file that does not exist`);
      source = current;
    } else if (writes.has(name) || (before.has(name) && !removed.has(name))) {
      throw new AppError(422, "patch_failed", `${name}: the diff creates a file that already exists`);
    }
    const result = applyFilePatch(name, source, patch);
    if (patch.kind === "delete") {
      if (result !== "") throw new AppError(422, "patch_failed", `${name}: the diff deletes the file but leaves lines in it`);
      removed.add(name);
      writes.delete(name);
    }
    if (patch.kind === "rename" && patch.oldPath !== null && !writes.has(patch.oldPath)) removed.add(patch.oldPath);
    if (patch.newPath !== null) {
      writes.set(patch.newPath, result);
      removed.delete(patch.newPath);
    }
    if (patch.oldPath !== null) changed.add(patch.oldPath);
    if (patch.newPath !== null) changed.add(patch.newPath);
  }
  for (const path of removed) tree.delete(path);
  for (const [path, content] of writes) tree.set(path, content);
}
