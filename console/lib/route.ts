/**
 * The console's hash routes. A link holds only ids and line numbers (never a key or text), so it can be
 * shared with anyone who may read the project: `#/projects/<id>/chunks/<chunkId>?lines=10-20`.
 */
export type Route =
  | { page: "projects" }
  | { page: "project"; projectId: string }
  | { page: "inspect"; projectId: string }
  | { page: "chunk"; projectId: string; chunkId: string; lines: [number, number] | undefined }
  | { page: "session"; projectId: string }
  | { page: "generations"; projectId: string }
  | { page: "generation"; projectId: string; generationId: string }
  | { page: "usage" }
  | { page: "metrics" }
  | { page: "admin" }
  | { page: "limits" };

const seg = (s: string | undefined): string => decodeURIComponent(s ?? "");

export function parseRoute(hash: string): Route {
  const [path = "", query = ""] = hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean);
  if (parts[0] === "usage") return { page: "usage" };
  if (parts[0] === "metrics") return { page: "metrics" };
  if (parts[0] === "admin") return parts[1] === "limits" ? { page: "limits" } : { page: "admin" };
  if (parts[0] === "projects" && parts[1]) {
    const projectId = seg(parts[1]);
    if (parts[2] === "inspect") return { page: "inspect", projectId };
    if (parts[2] === "session") return { page: "session", projectId };
    if (parts[2] === "generations") return parts[3] ? { page: "generation", projectId, generationId: seg(parts[3]) } : { page: "generations", projectId };
    if (parts[2] === "chunks" && parts[3]) {
      const m = /^(\d+)-(\d+)$/.exec(new URLSearchParams(query).get("lines") ?? "");
      return { page: "chunk", projectId, chunkId: seg(parts[3]), lines: m ? [Number(m[1]), Number(m[2])] : undefined };
    }
    return { page: "project", projectId };
  }
  return { page: "projects" };
}

const enc = encodeURIComponent;

export const href = {
  projects: (): string => "#/",
  project: (projectId: string): string => `#/projects/${enc(projectId)}`,
  inspect: (projectId: string): string => `#/projects/${enc(projectId)}/inspect`,
  session: (projectId: string): string => `#/projects/${enc(projectId)}/session`,
  generations: (projectId: string): string => `#/projects/${enc(projectId)}/generations`,
  generation: (projectId: string, generationId: string): string => `#/projects/${enc(projectId)}/generations/${enc(generationId)}`,
  chunk: (projectId: string, chunkId: string, lines?: [number, number]): string =>
    `#/projects/${enc(projectId)}/chunks/${enc(chunkId)}${lines && lines[0] > 0 ? `?lines=${lines[0]}-${lines[1]}` : ""}`,
  usage: (): string => "#/usage",
  metrics: (): string => "#/metrics",
  admin: (): string => "#/admin",
  limits: (): string => "#/admin/limits",
};

/** A model's citation (`chk_…:12-30`, or a bare chunk id) as a link to that chunk with the lines highlighted. */
export function citationHref(projectId: string, citation: string): string {
  const m = /^(.+?):(\d+)-(\d+)$/.exec(citation);
  return m ? href.chunk(projectId, m[1] as string, [Number(m[2]), Number(m[3])]) : href.chunk(projectId, citation);
}
