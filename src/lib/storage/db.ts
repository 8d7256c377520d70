/** The drizzle handle over D1, and D1's per-statement bound-parameter limit. */
import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = ReturnType<typeof openDb>;

export function openDb(d1: D1Database) {
  return drizzle(d1, { schema });
}

/** D1 accepts at most 100 bound parameters per statement. */
export const D1_MAX_PARAMS = 100;

/** Splits rows so each multi-row statement stays under D1's parameter limit. */
export function rowsPerStatement<T>(rows: T[], columns: number): T[][] {
  const per = Math.max(1, Math.floor(D1_MAX_PARAMS / columns));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += per) out.push(rows.slice(i, i + per));
  return out;
}
