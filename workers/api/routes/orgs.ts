/**
 * Orgs, API keys, the audit log and org settings. Only the operator's bootstrap token creates orgs (`createOrgRoute`,
 * mounted before key authentication); an org's admin keys mint, list and revoke its keys and set its
 * retention.
 */
import { Hono } from "hono";
import { z } from "zod";
import { AuditQuery, listAudit, recordAudit } from "../../../src/lib/audit/audit-log";
import { createOrg, grantFor, KeyRequest, listKeys, mintKey, requireOrgWide, revokeKey } from "../../../src/lib/auth";
import { notFound } from "../../../src/lib/errors";
import { MAX_RETENTION_DAYS, MIN_RETENTION_DAYS, RETENTION_DEFAULTS, readRetention, updateRetention } from "../../../src/lib/retention";
import { readSecretHandling, SECRET_HANDLING, updateSecretHandling } from "../../../src/lib/security/secret-handling";
import { openDb } from "../../../src/lib/storage";
import { LIMIT_DEFAULTS, LimitsPatch, readLimits, UsageQuery, updateLimits, usageReport } from "../../../src/lib/usage";
import { need, requireOperator } from "../middleware/auth";
import type { AppEnv } from "../types";
import { jsonOf, queryOf } from "../validate";

export const Named = z.object({ name: z.string().trim().min(1).max(200) });

const Days = z.number().int().min(MIN_RETENTION_DAYS).max(MAX_RETENTION_DAYS).nullable();
/** Days per kind of data; null restores the default, a field left out keeps its value. */
export const SettingsPatch = z
  .object({ auditRetentionDays: Days, sandboxRunRetentionDays: Days, sessionRetentionDays: Days, secretHandling: z.enum(SECRET_HANDLING).nullable() })
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
  return { orgId, retention: { ...effective, stored, defaults: RETENTION_DEFAULTS }, secretHandling: await readSecretHandling(db, orgId) };
}

export const KeysQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const createOrgRoute = new Hono<AppEnv>().post("/orgs", requireOperator(), jsonOf(Named), async (c) => {
  const { name } = c.req.valid("json");
  const db = openDb(c.env.DB);
  const org = await createOrg(db, name);
  await recordAudit(db, {
    orgId: org.orgId,
    actor: "operator",
    keyId: null,
    action: "POST /api/orgs",
    projectId: null,
    targets: { orgId: org.orgId, keyId: org.keyId },
    requestId: c.var.requestId,
    status: 201,
  });
  return c.json(org, 201);
});

export const orgRoutes = new Hono<AppEnv>()
  .post("/keys", need("admin"), jsonOf(KeyRequest), async (c) => {
    const body = c.req.valid("json");
    const db = openDb(c.env.DB);
    const grant = await grantFor(db, c.var.key, body, Date.now());
    return c.json(await mintKey(db, c.var.orgId, body.name, grant, c.var.key.keyId), 201);
  })
  .get("/keys", need("admin"), queryOf(KeysQuery), async (c) => {
    return c.json(await listKeys(openDb(c.env.DB), c.var.key, c.req.valid("query")));
  })
  .get("/audit", need("admin"), queryOf(AuditQuery), async (c) => {
    requireOrgWide(c.var.key, "read the org's audit log");
    return c.json(await listAudit(openDb(c.env.DB), c.var.orgId, c.req.valid("query")));
  })
  .delete("/keys/:keyId", need("admin"), async (c) => {
    await revokeKey(openDb(c.env.DB), c.var.key, c.req.param("keyId"), Date.now());
    return c.body(null, 204);
  })
  .get("/orgs/:orgId/limits", need("admin"), async (c) => {
    requireOrgWide(c.var.key, "read the org's limits");
    const orgId = ownOrg(c.req.param("orgId"), c.var.orgId);
    return c.json({ orgId, limits: await readLimits(openDb(c.env.DB), orgId), defaults: LIMIT_DEFAULTS });
  })
  .put("/orgs/:orgId/limits", need("admin"), jsonOf(LimitsPatch), async (c) => {
    requireOrgWide(c.var.key, "change the org's limits");
    const orgId = ownOrg(c.req.param("orgId"), c.var.orgId);
    const db = openDb(c.env.DB);
    await updateLimits(db, orgId, c.req.valid("json"));
    return c.json({ orgId, limits: await readLimits(db, orgId), defaults: LIMIT_DEFAULTS });
  })
  .get("/usage", need("admin"), queryOf(UsageQuery), async (c) => {
    requireOrgWide(c.var.key, "read the org's usage");
    return c.json(await usageReport(openDb(c.env.DB), c.var.orgId, c.req.valid("query")));
  })
  .get("/orgs/:orgId/settings", need("admin"), async (c) => {
    requireOrgWide(c.var.key, "read org settings");
    const orgId = ownOrg(c.req.param("orgId"), c.var.orgId);
    return c.json(await settingsView(openDb(c.env.DB), orgId));
  })
  .patch("/orgs/:orgId/settings", need("admin"), jsonOf(SettingsPatch), async (c) => {
    requireOrgWide(c.var.key, "change org settings");
    const orgId = ownOrg(c.req.param("orgId"), c.var.orgId);
    const { secretHandling, ...retention } = c.req.valid("json");
    const db = openDb(c.env.DB);
    if (Object.keys(retention).length > 0) await updateRetention(db, orgId, retention);
    if (secretHandling !== undefined) await updateSecretHandling(db, orgId, secretHandling);
    return c.json(await settingsView(db, orgId));
  });
