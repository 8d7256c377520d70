/**
 * API keys are the principals: each belongs to one org and carries scopes, an optional list of projects
 * and an optional expiry. Only the SHA-256 of a key is stored; the key itself is shown once, when minted.
 */
import { and, desc, eq, inArray, isNull, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { newId, randomToken, sha256Hex } from "../crypto/hash";
import { AppError, notFound } from "../errors";
import { type Db, tables } from "../storage";
import { afterCursor, decodePageCursor, encodePageCursor } from "../storage/page-cursor";
import type { Access } from "./access";
import { parseScopes, type Scope, ScopeList } from "./scopes";

export type KeyPrincipal = Access & {
  readonly keyId: string;
  readonly scopes: readonly Scope[];
  readonly expiresAt: number | null;
  readonly lastUsedAt: number | null;
};

/** How many projects one key may be limited to. */
export const MAX_KEY_PROJECTS = 100;
/** Last use is written at most this often per key, so a busy key does not write on every request. */
const LAST_USED_GRANULARITY_MS = 60_000;
const PREFIX_LENGTH = 10;

export const KeyRequest = z
  .object({
    name: z.string().trim().min(1).max(200),
    scopes: ScopeList.optional(),
    projectIds: z.array(z.string().min(1).max(64)).min(1).max(MAX_KEY_PROJECTS).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type KeyRequest = z.infer<typeof KeyRequest>;

type KeyRow = typeof tables.apiKeys.$inferSelect;

const projectList = (stored: string | null): string[] | null => (stored === null ? null : (JSON.parse(stored) as string[]));

/** The key a bearer token names, or 401 when there is none, it was revoked or it expired. */
export async function authenticate(db: Db, token: string, now: number): Promise<KeyPrincipal> {
  const row = await db
    .select()
    .from(tables.apiKeys)
    .where(eq(tables.apiKeys.keyHash, await sha256Hex(token)))
    .get();
  if (!row) throw new AppError(401, "unauthorized", "the token is not valid");
  if (row.revokedAt !== null) throw new AppError(401, "key_revoked", "this key was revoked");
  if (row.expiresAt !== null && row.expiresAt <= now) throw new AppError(401, "key_expired", `this key expired at ${new Date(row.expiresAt).toISOString()}`);
  return {
    keyId: row.keyId,
    orgId: row.orgId,
    scopes: parseScopes(row.scopes),
    projectIds: projectList(row.projectIds),
    expiresAt: row.expiresAt,
    lastUsedAt: row.lastUsedAt,
  };
}

/** Records that the key was used, unless that was recorded within the last minute. */
export async function touchKey(db: Db, key: KeyPrincipal, now: number): Promise<void> {
  if (key.lastUsedAt !== null && now - key.lastUsedAt < LAST_USED_GRANULARITY_MS) return;
  await db.update(tables.apiKeys).set({ lastUsedAt: now }).where(eq(tables.apiKeys.keyId, key.keyId));
}

/** 403 unless the key holds `scope`. */
export function requireScope(key: KeyPrincipal, scope: Scope): void {
  if (!key.scopes.includes(scope)) throw new AppError(403, "forbidden", `this key lacks the "${scope}" scope`);
}

/** 403 for a key limited to some projects: creating a project needs a key of the whole org. */
export function requireOrgWide(key: KeyPrincipal, action: string): void {
  if (key.projectIds !== null) throw new AppError(403, "forbidden", `a key limited to some projects cannot ${action}`);
}

export type Grant = { scopes: Scope[]; projectIds: string[] | null; expiresAt: number | null };

/**
 * What a new key gets: what was asked, defaulting to the creator's own; never more than the creator
 * holds (scopes, projects, lifetime), and only live projects of the org.
 */
export async function grantFor(db: Db, creator: KeyPrincipal, req: KeyRequest, now: number): Promise<Grant> {
  const scopes = req.scopes ?? [...creator.scopes];
  const beyond = scopes.filter((s) => !creator.scopes.includes(s));
  if (beyond.length > 0) throw new AppError(403, "forbidden", `a key cannot grant scopes it does not hold: ${beyond.join(", ")}`);
  const projectIds = req.projectIds ? [...new Set(req.projectIds)] : creator.projectIds && [...creator.projectIds];
  if (projectIds && creator.projectIds) {
    const outside = projectIds.filter((p) => !creator.projectIds?.includes(p));
    if (outside.length > 0) throw notFound(`project ${outside[0]}`);
  }
  if (projectIds) {
    const live = await db
      .select({ projectId: tables.projects.projectId })
      .from(tables.projects)
      .where(and(eq(tables.projects.orgId, creator.orgId), inArray(tables.projects.projectId, projectIds), isNull(tables.projects.deletedAt)))
      .all();
    const missing = projectIds.find((p) => !live.some((l) => l.projectId === p));
    if (missing) throw notFound(`project ${missing}`);
  }
  const asked = req.expiresAt === undefined ? null : Date.parse(req.expiresAt);
  if (asked !== null && asked <= now) throw new AppError(400, "invalid_request", "expiresAt must be in the future");
  if (creator.expiresAt !== null && asked !== null && asked > creator.expiresAt) {
    throw new AppError(403, "forbidden", "a key cannot outlive the key that creates it");
  }
  return { scopes, projectIds, expiresAt: asked ?? creator.expiresAt };
}

export type MintedKey = { keyId: string; apiKey: string };

export async function mintKey(db: Db, orgId: string, name: string, grant: Grant, createdBy: string | null): Promise<MintedKey> {
  const apiKey = `wk_${randomToken(32)}`;
  const keyId = newId("key");
  await db.insert(tables.apiKeys).values({
    keyId,
    orgId,
    name,
    keyHash: await sha256Hex(apiKey),
    prefix: apiKey.slice(0, PREFIX_LENGTH),
    scopes: JSON.stringify(grant.scopes),
    projectIds: grant.projectIds && JSON.stringify(grant.projectIds),
    expiresAt: grant.expiresAt,
    createdBy,
  });
  return { keyId, apiKey };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A key as listings show it: never the key or its hash. */
export function keyView(row: KeyRow) {
  return {
    keyId: row.keyId,
    name: row.name,
    prefix: row.prefix,
    scopes: parseScopes(row.scopes),
    projectIds: projectList(row.projectIds),
    expiresAt: iso(row.expiresAt),
    createdBy: row.createdBy,
    createdAt: iso(row.createdAt),
    lastUsedAt: iso(row.lastUsedAt),
    revokedAt: iso(row.revokedAt),
  };
}

/**
 * The keys a caller may see and revoke: every key of its org, or, for a key limited to some projects, the
 * keys limited to some of those projects (never a key that reaches further than the caller).
 */
function keysWithin(access: Access): SQL | undefined {
  const k = tables.apiKeys;
  const mine = eq(k.orgId, access.orgId);
  if (access.projectIds === null) return mine;
  const allowed = JSON.stringify(access.projectIds);
  return and(
    mine,
    sql`${k.projectIds} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(${k.projectIds}) AS j WHERE j.value NOT IN (SELECT value FROM json_each(${allowed})))`,
  );
}

/** One page of the keys the caller may see, newest first, revoked ones included (with when). */
export async function listKeys(db: Db, access: Access, page: { limit: number; cursor?: string | undefined }) {
  const k = tables.apiKeys;
  const after = page.cursor ? decodePageCursor(page.cursor) : undefined;
  const rows = await db
    .select()
    .from(k)
    .where(and(keysWithin(access), afterCursor(k.createdAt, k.keyId, after)))
    .orderBy(desc(k.createdAt), desc(k.keyId))
    .limit(page.limit + 1)
    .all();
  const shown = rows.slice(0, page.limit);
  const last = shown[shown.length - 1];
  return {
    keys: shown.map(keyView),
    nextCursor: rows.length > page.limit && last ? encodePageCursor({ at: last.createdAt, id: last.keyId }) : null,
  };
}

/**
 * Revokes a key the caller may see (revoking it again changes nothing); another org's key, or one reaching
 * further than a project-limited caller, answers as missing.
 */
export async function revokeKey(db: Db, access: Access, keyId: string, now: number): Promise<void> {
  const k = tables.apiKeys;
  const row = await db
    .select({ revokedAt: k.revokedAt })
    .from(k)
    .where(and(eq(k.keyId, keyId), keysWithin(access)))
    .get();
  if (!row) throw notFound("key");
  if (row.revokedAt === null) await db.update(k).set({ revokedAt: now }).where(eq(k.keyId, keyId));
}

/** Which of `keyIds` can no longer be used (revoked, expired or gone): their sockets are closed. */
export async function unusableKeys(db: Db, keyIds: readonly string[], now: number): Promise<string[]> {
  if (keyIds.length === 0) return [];
  const k = tables.apiKeys;
  const rows = await db
    .select({ keyId: k.keyId, revokedAt: k.revokedAt, expiresAt: k.expiresAt })
    .from(k)
    .where(inArray(k.keyId, [...keyIds]))
    .all();
  return keyIds.filter((id) => {
    const r = rows.find((x) => x.keyId === id);
    return !r || r.revokedAt !== null || (r.expiresAt !== null && r.expiresAt <= now);
  });
}
