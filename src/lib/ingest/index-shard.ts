/**
 * Sends written files to the project's index shard (its ProjectIndex Durable Object) and builds the
 * D1 statements for their file summaries. Called before the catalog commit, so a failure here retries
 * the whole message and the shard never misses a file the catalog has.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { IndexedFile, IndexInput } from "../index-store/types";
import { yieldToEventLoop } from "../resilience/yield";
import { headerComment, summarizeFile, summaryId } from "../retrieval/summaries";
import { extractSymbols } from "../retrieval/symbols";
import { type Db, rowsPerStatement, tables } from "../storage";
import { countWith } from "../tokenizer";
import type { PreparedFile } from "./prepare-file";
import type { ChunkRow, Statement } from "./write-files";

/** The shards of projects, as much of them as indexing needs (the ProjectIndex namespace is one). */
export type ShardNamespace = { getByName(name: string): { indexFiles(input: IndexInput): Promise<unknown> } };

export type ShardTarget = { namespace: ShardNamespace; projectId: string; projectName: string };

export async function indexInShard(
  db: Db,
  target: ShardTarget,
  written: { live: PreparedFile[]; removed: string[]; chunkRows: ChunkRow[] },
  changedAt: number,
): Promise<Statement[]> {
  const byPath = new Map<string, ChunkRow[]>();
  for (const r of written.chunkRows) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
  const files: IndexedFile[] = [];
  const summaryRows: (typeof tables.summaries.$inferInsert)[] = [];
  for (const f of written.live) {
    const text = f.text ?? "";
    const symbols = f.text === undefined ? [] : await extractSymbols(f.path, text);
    const summary =
      f.text === undefined
        ? `${f.path} — ${f.binary ? "binary file" : (f.skipReason ?? "no text")} (${f.sizeBytes} bytes)`
        : summarizeFile(f.path, text, symbols);
    const id = await summaryId(target.projectId, "file", f.path);
    files.push({
      path: f.path,
      sha256: f.sha256,
      type: f.type,
      chunks: (byPath.get(f.path) ?? []).map((r, i) => ({
        chunkId: r.chunkId,
        ordinal: r.ordinal,
        startLine: r.startLine,
        endLine: r.endLine,
        text: f.chunks[i]?.text ?? "",
      })),
      symbols,
      summaryId: id,
      summary,
      head: f.text === undefined ? "" : headerComment(f.path, text),
    });
    summaryRows.push({
      summaryId: id,
      projectId: target.projectId,
      path: f.path,
      level: "file",
      content: summary,
      tokenCount: countWith("cl100k_base", summary),
      sha256: f.sha256,
    });
    // Symbols and summaries are synchronous work: locally, a turn per file lets requests be served.
    await yieldToEventLoop();
  }
  if (files.length > 0 || written.removed.length > 0) {
    await target.namespace
      .getByName(target.projectId)
      .indexFiles({ projectId: target.projectId, projectName: target.projectName, files, removed: written.removed, changedAt });
  }
  const statements: Statement[] = [];
  const gone = [...written.live.map((f) => f.path), ...written.removed];
  for (let i = 0; i < gone.length; i += 90) {
    statements.push(
      db
        .delete(tables.summaries)
        .where(
          and(eq(tables.summaries.projectId, target.projectId), eq(tables.summaries.level, "file"), inArray(tables.summaries.path, gone.slice(i, i + 90))),
        ),
    );
  }
  for (const part of rowsPerStatement(summaryRows, tables.summaries)) statements.push(db.insert(tables.summaries).values(part));
  return statements;
}
