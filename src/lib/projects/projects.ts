/**
 * Projects belong to one org; every lookup is scoped by org so a foreign project reads as missing, and a
 * project whose deletion has started (deleted_at set) reads as missing too, and so does a project outside
 * the list a key was limited to.
 */
import { and, eq, isNull } from "drizzle-orm";
import { type Access, mayTouch } from "../auth/access";
import { notFound } from "../errors";
import { type Db, type Read, read, readNow, tables } from "../storage";

export type ProjectRow = typeof tables.projects.$inferSelect;

export async function getProject(db: Db, projectId: string, access: Access): Promise<ProjectRow> {
  return readNow(db, projectRead(db, projectId, access));
}

/** The project as a read to send with others (`readAtOnce`); a project the key may not touch is refused before any query. */
export function projectRead(db: Db, projectId: string, access: Access): Read<ProjectRow> {
  if (!mayTouch(access, projectId)) throw notFound("project");
  const p = tables.projects;
  const query = db
    .select()
    .from(p)
    .where(and(eq(p.projectId, projectId), eq(p.orgId, access.orgId), isNull(p.deletedAt)));
  return read(query, ([row]) => {
    if (!row) throw notFound("project");
    return row;
  });
}

/**
 * The project a session of the org works on, as a read (its limits join the org's): none for a session with no
 * registry row, older than the registry or another org's. Access to the session is its object's to check.
 */
export function sessionProjectRead(db: Db, sessionId: string, orgId: string): Read<ProjectRow | undefined> {
  const s = tables.sessions;
  const query = db
    .select({ project: tables.projects })
    .from(s)
    .innerJoin(tables.projects, eq(tables.projects.projectId, s.projectId))
    .where(and(eq(s.sessionId, sessionId), eq(s.orgId, orgId)));
  return read(query, ([row]) => row?.project);
}

/** Where GitHub delivers the project's pushes: each project has its own URL, so one secret checks a delivery. */
export const webhookPath = (projectId: string): string => `/api/webhooks/github/${projectId}`;

/** The public view of a project (never its webhook secret or git token). */
export function projectView(p: ProjectRow) {
  return {
    projectId: p.projectId,
    name: p.name,
    tokenizer: p.tokenizer,
    chunkTokens: p.chunkTokens,
    overlapTokens: p.overlapTokens,
    maxFileBytes: p.maxFileBytes,
    repository: p.repoFullName
      ? {
          fullName: p.repoFullName,
          branch: p.repoBranch,
          credential: p.gitToken ? ("token" as const) : ("none" as const),
          webhookPath: webhookPath(p.projectId),
        }
      : null,
    checkCommands: p.checkCommands ? (JSON.parse(p.checkCommands) as string[]) : null,
    installCommands: p.installCommands ? (JSON.parse(p.installCommands) as string[]) : null,
    maxContextTokens: p.maxContextTokens,
    generationEnabled: p.generationEnabled === 1,
    createdAt: new Date(p.createdAt).toISOString(),
  };
}
