/**
 * The cursor of a page ordered newest first by (time, id): opaque to clients, checked when read back, so a
 * cursor this API did not return is a 400, never a query on whatever it holds.
 */
import { and, eq, lt, or, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { z } from "zod";
import { AppError } from "../errors";

export type PageCursor = { at: number; id: string };

const Shape = z.tuple([z.number().int(), z.string().max(64)]);

export const encodePageCursor = (c: PageCursor): string => btoa(JSON.stringify([c.at, c.id]));

export function decodePageCursor(s: string): PageCursor {
  try {
    const [at, id] = Shape.parse(JSON.parse(atob(s)));
    return { at, id };
  } catch {
    throw new AppError(400, "invalid_cursor", "the cursor is not one this API returned");
  }
}

/** The rows after `cursor` in (time, id) descending order; no condition without a cursor. */
export function afterCursor(at: SQLiteColumn, id: SQLiteColumn, cursor: PageCursor | undefined): SQL | undefined {
  return cursor ? or(lt(at, cursor.at), and(eq(at, cursor.at), lt(id, cursor.id))) : undefined;
}
