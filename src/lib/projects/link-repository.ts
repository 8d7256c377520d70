/**
 * Linking a project to a GitHub repository: a new webhook secret, the org's own access token for that
 * repository stored sealed (none: public repositories only), and no pushed commit yet, so the first push
 * of the new link is taken whatever was indexed before.
 */
import { eq } from "drizzle-orm";
import { z } from "zod";
import { randomToken } from "../crypto/hash";
import { seal } from "../crypto/seal";
import { type Db, tables } from "../storage";

export const LinkRepository = z
  .object({
    fullName: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "owner/name"),
    branch: z.string().min(1).max(255).optional(),
    /** A fine-grained token limited to this repository (read-only contents); never returned. */
    token: z.string().min(1).max(1000).optional(),
  })
  .strict();
export type LinkRepository = z.infer<typeof LinkRepository>;

export async function linkRepository(db: Db, sealKey: string | undefined, projectId: string, link: LinkRepository): Promise<{ webhookSecret: string }> {
  const webhookSecret = randomToken(32);
  const gitToken = link.token === undefined ? null : await seal(sealKey, link.token, projectId);
  await db
    .update(tables.projects)
    .set({ repoFullName: link.fullName.toLowerCase(), repoBranch: link.branch ?? null, webhookSecret, gitToken, pushedCommit: null })
    .where(eq(tables.projects.projectId, projectId));
  return { webhookSecret };
}
