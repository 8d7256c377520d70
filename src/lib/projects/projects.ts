/**
 * Projects belong to one org; every lookup is scoped by org so a foreign project reads as missing, and a
 * project whose deletion has started (deleted_at set) reads as missing too, and so does a project outside
 * the list a key was limited to.
 */
import { and, eq, isNull } from "drizzle-orm";
import { type Access, mayTouch } from "../auth/access";
import { notFound } from "../errors";
import { type Db, tables } from "../storage";

export type ProjectRow = typeof tables.projects.$inferSelect;

export async function getProject(db: Db, projectId: string, access: Access): Promise<ProjectRow> {
  if (!mayTouch(access, projectId)) throw notFound("project");
  const { orgId } = access;
  const p = await db
    .select()
    .from(tables.projects)
    .where(and(eq(tables.projects.projectId, projectId), eq(tables.projects.orgId, orgId), isNull(tables.projects.deletedAt)))
    .get();
  if (!p) throw notFound("project");
  return p;
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
