/** Where each bounded maintenance pass stopped (maintenance_cursors), so the next run goes on from there. */
import { eq } from "drizzle-orm";
import { type Db, tables } from "../storage";

export async function readCursor(db: Db, name: string): Promise<string | null> {
  const row = await db
    .select({ cursor: tables.maintenanceCursors.cursor })
    .from(tables.maintenanceCursors)
    .where(eq(tables.maintenanceCursors.name, name))
    .get();
  return row?.cursor ?? null;
}

/** Stores the cursor; null means the pass went through everything and the next one starts over. */
export async function writeCursor(db: Db, name: string, cursor: string | null): Promise<void> {
  const set = { cursor, updatedAt: Date.now() };
  await db
    .insert(tables.maintenanceCursors)
    .values({ name, ...set })
    .onConflictDoUpdate({ target: tables.maintenanceCursors.name, set });
}
