/** Creating an org: its row and its first key, which holds every scope (the org's first admin). */
import { newId } from "../crypto/hash";
import { type Db, tables } from "../storage";
import { type MintedKey, mintKey } from "./keys";
import { SCOPES } from "./scopes";

export async function createOrg(db: Db, name: string): Promise<{ orgId: string } & MintedKey> {
  const orgId = newId("org");
  await db.insert(tables.orgs).values({ orgId, name });
  const key = await mintKey(db, orgId, `${name} (first admin key)`, { scopes: [...SCOPES], projectIds: null, expiresAt: null }, null);
  return { orgId, ...key };
}
