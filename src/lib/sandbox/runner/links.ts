/**
 * Which of a snapshot's symbolic links a sandbox may recreate: only those that cannot lead out of the
 * workspace, whatever the run does with them. Shared by the bubblewrap runner and the container sandbox.
 */

export type Link = { path: string; target: string };
export type RefusedLink = Link & { reason: string };

/**
 * Splits `links` into those safe to write and those left out, each with why. A link is written only when its
 * path is a plain relative path that no file or other link occupies, no directory above it is a link or a file
 * (so writing it cannot land elsewhere), and its target, resolved lexically from the link's directory, stays
 * strictly inside the workspace without stepping back (`..`) out of another link (where the lexical and the
 * real resolution part ways). Links may point at one another: each is checked on its own terms.
 */
export function planLinks(links: readonly Link[], filePaths: Iterable<string>): { write: Link[]; refused: RefusedLink[] } {
  const files = new Set(filePaths);
  const fileDirs = new Set<string>();
  for (const f of files) for (const dir of ancestors(f)) fileDirs.add(dir);
  const byPath = new Map<string, Link>();
  const refused: RefusedLink[] = [];
  for (const link of links) {
    if (byPath.has(link.path)) refused.push({ ...link, reason: "another link has the same path" });
    else byPath.set(link.path, link);
  }
  const linkPaths = new Set(byPath.keys());
  const write: Link[] = [];
  for (const link of byPath.values()) {
    const reason = whyRefused(link, linkPaths, files, fileDirs);
    if (reason) refused.push({ ...link, reason });
    else write.push(link);
  }
  return { write: write.sort((a, b) => a.path.localeCompare(b.path)), refused };
}

/** Why the link cannot be written, or null when it can. `linkPaths` are the paths of every link in the run. */
export function whyRefused(
  link: Link,
  linkPaths: ReadonlySet<string>,
  files: ReadonlySet<string> = new Set(),
  fileDirs: ReadonlySet<string> = new Set(),
): string | null {
  const { path, target } = link;
  if (!isPlainRelativePath(path)) return "the link's path is not a plain relative path";
  if (files.has(path) || fileDirs.has(path)) return "a file or directory already has the link's path";
  for (const dir of ancestors(path)) {
    if (linkPaths.has(dir)) return `the link's directory goes through the link ${dir}`;
    if (files.has(dir)) return `the link's directory ${dir} is a file`;
  }
  if (target === "" || target.includes("\0") || target.includes("\\")) return "the target is empty or has a NUL or a backslash";
  if (target.startsWith("/") || /^[a-zA-Z]:/.test(target)) return "the target is absolute";
  const at = path.split("/").slice(0, -1);
  // Whether `at` currently runs through a link: from there on `..` means the link target's parent, not at's.
  const throughLink = (): boolean => at.some((_, i) => linkPaths.has(at.slice(0, i + 1).join("/")));
  for (const seg of target.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (at.length === 0) return "the target leaves the workspace";
      if (throughLink()) return "the target steps back out of another link";
      at.pop();
    } else at.push(seg);
  }
  if (at.length === 0) return "the target is the workspace itself";
  return null;
}

/** The directories above a relative path, nearest the root first: `a/b/c` gives `a`, `a/b`. */
function ancestors(path: string): string[] {
  const parts = path.split("/");
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
}

function isPlainRelativePath(path: string): boolean {
  return path.split("/").every((seg) => seg !== "" && seg !== "." && seg !== ".." && !seg.includes("\0") && !seg.includes("\\"));
}
