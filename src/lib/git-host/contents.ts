/** Reads file contents from a GitHub-compatible REST API (base URL configurable for GHES and tests). */
import { type GitHost, getFromHost, repoUrl } from "./request";

/** The raw bytes of `path` at `ref`, or null when the path does not exist there. */
export async function fetchFileAt(host: GitHost, repo: string, ref: string, path: string): Promise<Uint8Array | null> {
  const url = repoUrl(host, repo, "contents", path.split("/"), { ref });
  const res = await getFromHost(host, url, "application/vnd.github.raw", `${repo}/${path}@${ref}`);
  return res === null ? null : new Uint8Array(await res.arrayBuffer());
}
