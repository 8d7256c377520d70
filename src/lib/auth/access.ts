/**
 * Which of an org's projects a caller may touch: every one, or the list its key was limited to. A project
 * outside the list answers as a missing one, so a limited key learns nothing about the others.
 */
export type Access = { readonly orgId: string; readonly projectIds: readonly string[] | null };

/** Access to every project of the org: for the org's own background work (sessions, consumers). */
export const orgWide = (orgId: string): Access => ({ orgId, projectIds: null });

export function mayTouch(access: Access, projectId: string): boolean {
  return access.projectIds === null || access.projectIds.includes(projectId);
}
