/** Writes one workspace file as a run request carries it: text or base64 bytes, 0755 when executable, 0644 otherwise. */
import { createHash } from "node:crypto";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { WorkspaceFile } from "../workspace";

/** A write that ran out of room in the workspace volume. */
export class WorkspaceFull extends Error {}

/** Writes `file` under `workspace` at its (already checked) relative `path`; answers the sha256 of the bytes written. */
export async function writeWorkspaceFile(workspace: string, path: string, file: WorkspaceFile): Promise<string> {
  const bytes = file.encoding === "base64" ? Buffer.from(file.content, "base64") : Buffer.from(file.content, "utf8");
  const target = join(workspace, path);
  await mkdir(dirname(target), { recursive: true });
  try {
    await writeFile(target, bytes, { mode: 0o644 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOSPC") throw new WorkspaceFull();
    throw e;
  }
  // chmod, not writeFile's mode: the mode given at creation is reduced by the runner's umask.
  if (file.executable) await chmod(target, 0o755);
  return createHash("sha256").update(bytes).digest("hex");
}
