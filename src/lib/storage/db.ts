/** The drizzle handle over D1, and D1's per-statement bound-parameter limit. */
import { getTableColumns, type Table } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

function open(d1: D1Database) {
  return drizzle(d1, { schema });
}

export type Db = ReturnType<typeof open>;

// drizzle builds its relational config from the whole schema each time it opens (~3 ms a request here); a
// handle holds nothing but the binding, so one per binding serves every request of the isolate.
const opened = new WeakMap<D1Database, Db>();

export function openDb(d1: D1Database): Db {
  let db = opened.get(d1);
  if (!db) {
    db = open(d1);
    opened.set(d1, db);
  }
  return db;
}

/** D1 accepts at most 100 bound parameters per statement. */
export const D1_MAX_PARAMS = 100;

/**
 * Splits rows so each multi-row insert into `table` stays under D1's parameter limit. drizzle binds
 * every column of the table for every row (defaults included), so the table's width is what counts.
 */
export function rowsPerStatement<T>(rows: T[], table: Table): T[][] {
  const per = Math.max(1, Math.floor(D1_MAX_PARAMS / Object.keys(getTableColumns(table)).length));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += per) out.push(rows.slice(i, i + per));
  return out;
}

/** One statement of a D1 batch. */
export type Statement = BatchItem<"sqlite">;

/** Runs statements as one D1 batch (one transaction). */
export async function runBatch(db: Db, statements: Statement[]): Promise<void> {
  if (statements.length === 0) return;
  await db.batch(statements as [Statement, ...Statement[]]);
}
