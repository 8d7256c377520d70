/** Orgs, API keys and org settings. Only the bootstrap token creates orgs; any org mints keys and sets retention for itself. */
import { Hono } from "hono";
import { z } from "zod";
import { newId, randomToken, sha256Hex } from "../../../src/lib/crypto/hash";
import { AppError, notFound } from "../../../src/lib/errors";
import { MAX_RETENTION_DAYS, MIN_RETENTION_DAYS, RETENTION_DEFAULTS, readRetention, updateRetention } from "../../../src/lib/retention";
import { openDb, tables } from "../../../src/lib/storage";
import type { AppEnv } from "../types";
import { jsonOf } from "../validate";

const Named = z.object({ name: z.string().trim().min(1).max(200) });

const Days = z.number().int().min(MIN_RETENTION_DAYS).max(MAX_RETENTION_DAYS).nullable();
/** Days per kind of data; null restores the default, a field left out keeps its value. */
const SettingsPatch = z
  .object({ auditRetentionDays: Days, sandboxRunRetentionDays: Days, sessionRetentionDays: Days })
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: "give at least one setting" });

/** The caller's own org only: another org's id is answered like a missing one. */
function ownOrg(orgId: string, callerOrgId: string): string {
  if (orgId !== callerOrgId) throw notFound("org");
  return orgId;
}

async function settingsView(db: ReturnType<typeof openDb>, orgId: string) {
  const { stored, effective } = await readRetention(db, orgId);
  return { orgId, retention: { ...effective, stored, defaults: RETENTION_DEFAULTS } };
}

async function mintKey(db: ReturnType<typeof openDb>, orgId: string, name: string): Promise<{ keyId: string; apiKey: string }> {
  const apiKey = `wk_${randomToken(32)}`;
  const keyId = newId("key");
  await db.insert(tables.apiKeys).values({ keyId, orgId, name, keyHash: await sha256Hex(apiKey) });
  return { keyId, apiKey };
}

export const orgRoutes = new Hono<AppEnv>()
  .post("/orgs", jsonOf(Named), async (c) => {
    if (!c.var.isBootstrap) throw new AppError(403, "forbidden", "only the bootstrap token can create orgs");
    const { name } = c.req.valid("json");
    const db = openDb(c.env.DB);
    const orgId = newId("org");
    await db.insert(tables.orgs).values({ orgId, name });
    return c.json({ orgId, ...(await mintKey(db, orgId, `${name} (first key)`)) }, 201);
  })
  .post("/keys", jsonOf(Named), async (c) => {
    const { name } = c.req.valid("json");
    return c.json(await mintKey(openDb(c.env.DB), c.var.orgId, name), 201);
  })
  .get("/orgs/:orgId/settings", async (c) => {
    const orgId = ownOrg(c.req.param("orgId"), c.var.orgId);
    return c.json(await settingsView(openDb(c.env.DB), orgId));
  })
  .patch("/orgs/:orgId/settings", jsonOf(SettingsPatch), async (c) => {
    const orgId = ownOrg(c.req.param("orgId"), c.var.orgId);
    const patch = c.req.valid("json");
    const db = openDb(c.env.DB);
    await updateRetention(db, orgId, patch);
    return c.json(await settingsView(db, orgId));
  });
