/** An org's choice for files that hold a detected secret: mask the secret (default) or reject the file. */
import { eq } from "drizzle-orm";
import { type Db, tables } from "../storage";

export const SECRET_HANDLING = ["mask", "reject"] as const;
export type SecretHandling = (typeof SECRET_HANDLING)[number];

export async function readSecretHandling(db: Db, orgId: string): Promise<SecretHandling> {
  const row = await db.select({ v: tables.orgSettings.secretHandling }).from(tables.orgSettings).where(eq(tables.orgSettings.orgId, orgId)).get();
  return row?.v === "reject" ? "reject" : "mask";
}

/** Sets it; null restores the default (mask). */
export async function updateSecretHandling(db: Db, orgId: string, value: SecretHandling | null): Promise<void> {
  const set = { secretHandling: value, updatedAt: Date.now() };
  await db
    .insert(tables.orgSettings)
    .values({ orgId, ...set })
    .onConflictDoUpdate({ target: tables.orgSettings.orgId, set });
}
