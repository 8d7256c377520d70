/** The directory a project path is in, without its final slash: "" for a file at the root. */
export function directoryOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

/** A project path's last part: its file's name. */
export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Whether a path is at the project's root or under one of the root's dot-directories (`.cargo/config.toml`). */
export function isAtTop(path: string): boolean {
  return !path.includes("/") || path.startsWith(".");
}
