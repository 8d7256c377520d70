/** D1 keeps every summary as the system of record; the shard's directory and project rows are copied there whole. */
import { and, eq, inArray } from "drizzle-orm";
import { sha256Hex } from "../crypto/hash";
import { openDb, rowsPerStatement, tables } from "../storage";
import { countWith } from "../tokenizer";
import type { DerivedSummary } from "./derived";

export async function mirrorSummaries(d1: D1Database, projectId: string, rows: DerivedSummary[]): Promise<void> {
  const db = openDb(d1);
  const statements = [
    db.delete(tables.summaries).where(and(eq(tables.summaries.projectId, projectId), inArray(tables.summaries.level, ["directory", "project"]))),
  ];
  const all = await Promise.all(
    rows.map(async (r) => ({
      summaryId: r.id,
      projectId,
      path: r.path,
      level: r.level,
      content: r.content,
      tokenCount: countWith("cl100k_base", r.content),
      sha256: await sha256Hex(r.content),
    })),
  );
  for (const part of rowsPerStatement(all, tables.summaries)) statements.push(db.insert(tables.summaries).values(part) as never);
  await db.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
}
