/** Orgs, keys, the audit log, limits, usage and settings: requests and responses. */
import { z } from "zod";
import { AuditQuery } from "../audit/audit-log";
import { KeyRequest } from "../auth/keys";
import { SCOPES } from "../auth/scopes";
import { GENERATION_DEFAULTS, GovernancePatch, MODEL_SUMMARY_SETTINGS } from "../governance";
import { MAX_RETENTION_DAYS, MIN_RETENTION_DAYS } from "../retention/policy";
import { SECRET_HANDLING } from "../security/secret-handling";
import { LimitsPatch } from "../usage/limits";
import { USE_KINDS, UsageQuery } from "../usage/meter";
import { IsoTime, NextCursor } from "./common";

export { AuditQuery, KeyRequest, LimitsPatch, UsageQuery };

export const Named = z.object({ name: z.string().trim().min(1).max(200) });

const Days = z.number().int().min(MIN_RETENTION_DAYS).max(MAX_RETENTION_DAYS).nullable();
/** Days per kind of data; null restores the default, a field left out keeps its value. */
export const SettingsPatch = z
  .object({
    auditRetentionDays: Days,
    sandboxRunRetentionDays: Days,
    sessionRetentionDays: Days,
    secretHandling: z.enum(SECRET_HANDLING).nullable(),
    ...GovernancePatch.shape,
  })
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: "give at least one setting" });

export const KeysQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const MintedKey = z.object({ keyId: z.string(), apiKey: z.string().describe("shown once; only its hash is stored") });
export const OrgCreated = MintedKey.extend({ orgId: z.string() });

export const KeyList = z.object({
  keys: z.array(
    z.object({
      keyId: z.string(),
      name: z.string(),
      prefix: z.string(),
      scopes: z.array(z.enum(SCOPES)),
      projectIds: z.array(z.string()).nullable(),
      expiresAt: IsoTime.nullable(),
      createdBy: z.string().nullable(),
      createdAt: IsoTime.nullable(),
      lastUsedAt: IsoTime.nullable(),
      revokedAt: IsoTime.nullable(),
    }),
  ),
  nextCursor: NextCursor,
});

export const AuditPage = z.object({
  entries: z.array(
    z.object({
      auditId: z.string(),
      at: IsoTime,
      actor: z.string(),
      keyId: z.string().nullable(),
      action: z.string(),
      projectId: z.string().nullable(),
      targets: z.record(z.string(), z.string()),
      requestId: z.string(),
      status: z.number(),
      outcome: z.string(),
    }),
  ),
  nextCursor: NextCursor,
});

const OrgLimitNumbers = z.object({
  tokensAssembledPerDay: z.number(),
  spendUsdPerDay: z.number(),
  spendUsdPerMonth: z.number(),
  sandboxMinutesPerDay: z.number(),
  concurrentSandboxRuns: z.number(),
  projects: z.number(),
  storedBytes: z.number(),
});

export const LimitsView = z.object({
  orgId: z.string(),
  limits: OrgLimitNumbers.extend({
    requestsPerMinutePerKey: z.number().nullable(),
    perProject: z.object({ tokensAssembledPerDay: z.number().nullable(), spendUsdPerDay: z.number().nullable() }),
  }),
  defaults: OrgLimitNumbers,
});

const UsageNumbers = z.object({ tokensAssembled: z.number(), costUsd: z.number(), sandboxMinutes: z.number(), requests: z.number() });
export const UsageReport = z.object({
  from: z.string(),
  to: z.string(),
  totals: UsageNumbers,
  rows: z.array(
    UsageNumbers.extend({
      day: z.string(),
      projectId: z.string().nullable(),
      model: z.string().nullable(),
      kind: z
        .enum(USE_KINDS)
        .nullable()
        .describe('"summary": model-written summaries made at ingestion (no key); "rerank": an assembly\'s rerank; null: the request\'s own use'),
      keyId: z.string().nullable(),
    }),
  ),
});

const RetentionDays = z.object({ auditRetentionDays: z.number(), sandboxRunRetentionDays: z.number(), sessionRetentionDays: z.number() });
export const SettingsView = z.object({
  orgId: z.string(),
  retention: RetentionDays.extend({
    stored: z.object({
      auditRetentionDays: z.number().nullable(),
      sandboxRunRetentionDays: z.number().nullable(),
      sessionRetentionDays: z.number().nullable(),
    }),
    defaults: RetentionDays,
  }),
  secretHandling: z.enum(SECRET_HANDLING),
  maxContextTokens: z.number().nullable().describe("the largest context budget a request may ask for; null: the API's 1,000,000"),
  allowedModels: z.array(z.string()).nullable().describe("the models requests may name; null: any"),
  generationDefault: z.enum(GENERATION_DEFAULTS).describe('"off": new projects start with generation disabled'),
  complianceMode: z.boolean().describe("no request leaves for an external model or embedding service; generation answers 403"),
  modelSummaries: z
    .enum(MODEL_SUMMARY_SETTINGS)
    .nullable()
    .describe("model-written file and directory summaries at ingestion (with a model key, outside compliance mode); null: the deployment's default"),
  summaryBudgetUsd: z.number().describe("USD each project may spend on model-written summaries per UTC month (default 1)"),
  rerank: z.boolean().describe("assemblies rerank their top candidates with a small model unless a request says rerank: false"),
  allowInstallScripts: z.boolean().describe("sandbox installs may run package install scripts (npm lifecycle scripts, pip source builds); off by default"),
});

export const Whoami = z.object({
  keyId: z.string(),
  orgId: z.string(),
  scopes: z.array(z.enum(SCOPES)),
  projectIds: z.array(z.string()).nullable().describe("null: every project of the org"),
  expiresAt: IsoTime.nullable(),
});
