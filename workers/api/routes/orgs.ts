/**
 * Orgs, API keys, the audit log and org settings. Only the operator's bootstrap token creates orgs (`createOrgRoute`,
 * mounted before key authentication); an org's admin keys mint, list and revoke its keys and set its
 * retention.
 */
import { Hono } from "hono";
import { listAudit, recordAudit } from "../../../src/lib/audit/audit-log";
import { createOrg, grantFor, listKeys, mintKey, requireOrgWide, revokeKey } from "../../../src/lib/auth";
import {
  AuditPage,
  AuditQuery,
  KeyList,
  KeyRequest,
  KeysQuery,
  LimitsPatch,
  LimitsView,
  MintedKey,
  Named,
  OrgCreated,
  SettingsPatch,
  SettingsView,
  UsageQuery,
  UsageReport,
} from "../../../src/lib/contract/orgs";
import { notFound } from "../../../src/lib/errors";
import { readGovernance, updateGovernance } from "../../../src/lib/governance";
import { RETENTION_DEFAULTS, readRetention, updateRetention } from "../../../src/lib/retention";
import { readSecretHandling, updateSecretHandling } from "../../../src/lib/security/secret-handling";
import { openDb } from "../../../src/lib/storage";
import { LIMIT_DEFAULTS, readLimits, updateLimits, usageReport } from "../../../src/lib/usage";
import { need, requireOperator } from "../middleware/auth";
import { describe } from "../openapi";
import type { AppEnv } from "../types";
import { jsonOf, queryOf } from "../validate";

/** The caller's own org only: another org's id is answered like a missing one. */
function ownOrg(orgId: string, callerOrgId: string): string {
  if (orgId !== callerOrgId) throw notFound("org");
  return orgId;
}

async function settingsView(db: ReturnType<typeof openDb>, orgId: string) {
  const { stored, effective } = await readRetention(db, orgId);
  return {
    orgId,
    retention: { ...effective, stored, defaults: RETENTION_DEFAULTS },
    secretHandling: await readSecretHandling(db, orgId),
    ...(await readGovernance(db, orgId)),
  };
}

export const createOrgRoute = new Hono<AppEnv>().post(
  "/orgs",
  describe({
    summary: "Create an org and its first admin key (the operator's bootstrap token only)",
    tags: ["orgs"],
    caller: "operator",
    responses: { 201: OrgCreated },
  }),
  requireOperator(),
  jsonOf(Named),
  async (c) => {
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
  },
);

export const orgRoutes = new Hono<AppEnv>()
  .post(
    "/keys",
    describe({ summary: "Mint an API key (never more than the caller holds)", tags: ["keys"], caller: "admin", responses: { 201: MintedKey } }),
    need("admin"),
    jsonOf(KeyRequest),
    async (c) => {
      const body = c.req.valid("json");
      const db = openDb(c.env.DB);
      const grant = await grantFor(db, c.var.key, body, Date.now());
      return c.json(await mintKey(db, c.var.orgId, body.name, grant, c.var.key.keyId), 201);
    },
  )
  .get(
    "/keys",
    describe({ summary: "List the org's keys (never their secrets)", tags: ["keys"], caller: "admin", responses: { 200: KeyList } }),
    need("admin"),
    queryOf(KeysQuery),
    async (c) => {
      return c.json(await listKeys(openDb(c.env.DB), c.var.key, c.req.valid("query")));
    },
  )
  .get(
    "/audit",
    describe({ summary: "The org's audit log, newest first", tags: ["orgs"], caller: "admin", responses: { 200: AuditPage } }),
    need("admin"),
    queryOf(AuditQuery),
    async (c) => {
      requireOrgWide(c.var.key, "read the org's audit log");
      return c.json(await listAudit(openDb(c.env.DB), c.var.orgId, c.req.valid("query")));
    },
  )
  .delete(
    "/keys/:keyId",
    describe({ summary: "Revoke a key (effective on the next request; its WebSockets close)", tags: ["keys"], caller: "admin", responses: { 204: null } }),
    need("admin"),
    async (c) => {
      await revokeKey(openDb(c.env.DB), c.var.key, c.req.param("keyId"), Date.now());
      return c.body(null, 204);
    },
  )
  .get(
    "/orgs/:orgId/limits",
    describe({ summary: "The org's quotas and rate limits", tags: ["orgs"], caller: "admin", responses: { 200: LimitsView } }),
    need("admin"),
    async (c) => {
      requireOrgWide(c.var.key, "read the org's limits");
      const orgId = ownOrg(c.req.param("orgId"), c.var.orgId);
      return c.json({ orgId, limits: await readLimits(openDb(c.env.DB), orgId), defaults: LIMIT_DEFAULTS });
    },
  )
  .put(
    "/orgs/:orgId/limits",
    describe({ summary: "Set the org's quotas and rate limits (null restores a default)", tags: ["orgs"], caller: "admin", responses: { 200: LimitsView } }),
    need("admin"),
    jsonOf(LimitsPatch),
    async (c) => {
      requireOrgWide(c.var.key, "change the org's limits");
      const orgId = ownOrg(c.req.param("orgId"), c.var.orgId);
      const db = openDb(c.env.DB);
      await updateLimits(db, orgId, c.req.valid("json"));
      return c.json({ orgId, limits: await readLimits(db, orgId), defaults: LIMIT_DEFAULTS });
    },
  )
  .get(
    "/usage",
    describe({ summary: "Usage by UTC day, project, model and key", tags: ["orgs"], caller: "admin", responses: { 200: UsageReport } }),
    need("admin"),
    queryOf(UsageQuery),
    async (c) => {
      requireOrgWide(c.var.key, "read the org's usage");
      return c.json(await usageReport(openDb(c.env.DB), c.var.orgId, c.req.valid("query")));
    },
  )
  .get(
    "/orgs/:orgId/settings",
    describe({
      summary: "The org's retention, secret handling and governance (budget limit, models, generation, compliance)",
      tags: ["orgs"],
      caller: "admin",
      responses: { 200: SettingsView },
    }),
    need("admin"),
    async (c) => {
      requireOrgWide(c.var.key, "read org settings");
      const orgId = ownOrg(c.req.param("orgId"), c.var.orgId);
      return c.json(await settingsView(openDb(c.env.DB), orgId));
    },
  )
  .patch(
    "/orgs/:orgId/settings",
    describe({
      summary: "Change the org's retention, secret handling or governance settings",
      tags: ["orgs"],
      caller: "admin",
      responses: { 200: SettingsView },
    }),
    need("admin"),
    jsonOf(SettingsPatch),
    async (c) => {
      requireOrgWide(c.var.key, "change org settings");
      const orgId = ownOrg(c.req.param("orgId"), c.var.orgId);
      const {
        secretHandling,
        maxContextTokens,
        allowedModels,
        generationDefault,
        complianceMode,
        modelSummaries,
        summaryBudgetUsd,
        rerank,
        allowInstallScripts,
        ...retention
      } = c.req.valid("json");
      const governance = { maxContextTokens, allowedModels, generationDefault, complianceMode, modelSummaries, summaryBudgetUsd, rerank, allowInstallScripts };
      const db = openDb(c.env.DB);
      if (Object.keys(retention).length > 0) await updateRetention(db, orgId, retention);
      if (secretHandling !== undefined) await updateSecretHandling(db, orgId, secretHandling);
      if (Object.values(governance).some((v) => v !== undefined)) await updateGovernance(db, orgId, governance);
      return c.json(await settingsView(db, orgId));
    },
  );
