/** Orgs and API keys. Only the bootstrap token creates orgs; any org mints keys for itself. */
import { Hono } from "hono";
import { z } from "zod";
import { newId, randomToken, sha256Hex } from "../../../src/lib/crypto/hash";
import { AppError } from "../../../src/lib/errors";
import { openDb, tables } from "../../../src/lib/storage";
import type { AppEnv } from "../types";
import { jsonBody } from "../validate";

const Named = z.object({ name: z.string().trim().min(1).max(200) });

async function mintKey(db: ReturnType<typeof openDb>, orgId: string, name: string): Promise<{ keyId: string; apiKey: string }> {
  const apiKey = `wk_${randomToken(32)}`;
  const keyId = newId("key");
  await db.insert(tables.apiKeys).values({ keyId, orgId, name, keyHash: await sha256Hex(apiKey) });
  return { keyId, apiKey };
}

export const orgRoutes = new Hono<AppEnv>()
  .post("/orgs", async (c) => {
    if (!c.var.isBootstrap) throw new AppError(403, "forbidden", "only the bootstrap token can create orgs");
    const { name } = await jsonBody(c, Named);
    const db = openDb(c.env.DB);
    const orgId = newId("org");
    await db.insert(tables.orgs).values({ orgId, name });
    return c.json({ orgId, ...(await mintKey(db, orgId, `${name} (first key)`)) }, 201);
  })
  .post("/keys", async (c) => {
    const { name } = await jsonBody(c, Named);
    return c.json(await mintKey(openDb(c.env.DB), c.var.orgId, name), 201);
  });
