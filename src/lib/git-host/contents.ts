/** Reads file contents from a GitHub-compatible REST API (base URL configurable for GHES and tests). */
export type GitHost = { baseUrl: string; token?: string | undefined; fetch?: typeof fetch };

export class GitHostError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "GitHostError";
  }
}

/** The raw bytes of `path` at `ref`, or null when the path does not exist there. */
export async function fetchFileAt(host: GitHost, repo: string, ref: string, path: string): Promise<Uint8Array | null> {
  const url = `${host.baseUrl.replace(/\/+$/, "")}/repos/${repo}/contents/${path.split("/").map(encodeURIComponent).join("/")}?ref=${encodeURIComponent(ref)}`;
  const res = await (host.fetch ?? fetch)(url, {
    headers: {
      accept: "application/vnd.github.raw",
      "user-agent": "winky-context",
      "x-github-api-version": "2022-11-28",
      ...(host.token ? { authorization: `Bearer ${host.token}` } : {}),
    },
  });
  if (res.status === 404) return null;
  if (!res.ok) {
    throw new GitHostError(`git host answered ${res.status} for ${repo}/${path}@${ref}`, res.status, res.status === 429 || res.status >= 500);
  }
  return new Uint8Array(await res.arrayBuffer());
}
