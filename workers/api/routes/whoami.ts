/** GET /api/whoami: the calling key as the API sees it (any valid key), so a client learns its org. */
import { Hono } from "hono";
import { Whoami } from "../../../src/lib/contract/orgs";
import { describe } from "../openapi";
import type { AppEnv } from "../types";

export const whoamiRoutes = new Hono<AppEnv>().get(
  "/whoami",
  describe({ summary: "The calling key: its id, org, scopes, projects and expiry", tags: ["keys"], caller: "key", responses: { 200: Whoami } }),
  (c) => {
    const { keyId, orgId, scopes, projectIds, expiresAt } = c.var.key;
    return c.json({
      keyId,
      orgId,
      scopes: [...scopes],
      projectIds: projectIds === null ? null : [...projectIds],
      expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    });
  },
);
