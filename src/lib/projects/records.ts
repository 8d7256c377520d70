/**
 * Conversations and logs as synthetic files of a project: records are chunked at their boundaries and
 * written (catalog, chunk store, shard) at once, in the request.
 */
import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { chunkRecords } from "../chunker";
import { sha256Hex } from "../crypto/hash";
import { fingerprint, indexInShard, type ShardNamespace, writeFiles } from "../ingest";
import { type Db, runBatch, tables } from "../storage";
import type { Tokenizer } from "../tokenizer";
import type { ProjectRow } from "./projects";

export const Conversation = z.object({
  conversationId: z.string().regex(/^[\w.-]{1,128}$/),
  messages: z
    .array(z.object({ role: z.string().min(1).max(64), content: z.string().max(1_000_000), at: z.iso.datetime().optional() }))
    .min(1)
    .max(10_000),
});

const SEVERITIES = ["trace", "debug", "info", "notice", "warn", "error", "fatal"] as const;
export const Logs = z
  .object({
    source: z.string().regex(/^[\w.-]{1,128}$/),
    entries: z
      .array(z.object({ at: z.iso.datetime().optional(), severity: z.enum(SEVERITIES), message: z.string().max(1_000_000) }))
      .min(1)
      .max(100_000)
      .optional(),
    text: z
      .string()
      .min(1)
      .max(4 * 1024 * 1024)
      .optional(),
  })
  .refine((l) => (l.entries ? 1 : 0) + (l.text ? 1 : 0) === 1, { message: "send exactly one of entries or text" });
export type Conversation = z.infer<typeof Conversation>;
export type Logs = z.infer<typeof Logs>;

export type RecordDeps = { db: Db; bucket: R2Bucket; projectIndex: ShardNamespace };
type Record = { text: string; severity?: string | undefined };

export async function storeConversation(deps: RecordDeps, p: ProjectRow, body: Conversation) {
  const records = body.messages.map((m) => ({ text: `[${m.role}${m.at ? ` @ ${m.at}` : ""}]\n${m.content.replace(/\r\n?/g, "\n")}\n\n` }));
  const path = `conversations/${body.conversationId}/${(await sha256Hex(JSON.stringify(body.messages))).slice(0, 16)}`;
  return storeRecords(deps, p, path, "conversation", records);
}

export async function storeLogs(deps: RecordDeps, p: ProjectRow, body: Logs) {
  const records: Record[] = body.entries
    ? body.entries.map((e) => ({ text: `${e.at ? `${e.at} ` : ""}${e.severity.toUpperCase()} ${e.message.replace(/\r\n?/g, "\n")}\n`, severity: e.severity }))
    : (body.text ?? "")
        .replace(/\r\n?/g, "\n")
        .split(/(?<=\n)/)
        .map((line) => ({ text: line.endsWith("\n") ? line : `${line}\n`, severity: severityOf(line) }));
  const path = `logs/${body.source}/${(await sha256Hex(records.map((r) => r.text).join(""))).slice(0, 16)}`;
  return storeRecords(deps, p, path, "log", records);
}

function severityOf(line: string): string | undefined {
  const m = /\b(TRACE|DEBUG|INFO|NOTICE|WARN(?:ING)?|ERROR|ERR|FATAL|CRITICAL|PANIC)\b/i.exec(line);
  if (!m) return undefined;
  const s = (m[1] as string).toLowerCase();
  if (s.startsWith("warn")) return "warn";
  if (s === "err") return "error";
  if (s === "critical" || s === "panic") return "fatal";
  return s;
}

/** Chunks records at their boundaries and writes them as one synthetic file of the project. */
async function storeRecords(deps: RecordDeps, p: ProjectRow, path: string, type: "conversation" | "log", records: Record[]) {
  const { db } = deps;
  const { text, chunks } = chunkRecords(records, { tokenizer: p.tokenizer as Tokenizer, maxTokens: p.chunkTokens, overlapTokens: 0 });
  const sha256 = await sha256Hex(text);
  const prepared = {
    path,
    sha256,
    sizeBytes: new TextEncoder().encode(text).byteLength,
    binary: false,
    type,
    status: "text" as const,
    chunks: await fingerprint(chunks),
  };
  const changedAt = Date.now();
  const written = await writeFiles({ db, bucket: deps.bucket }, p.projectId, changedAt, [{ ...prepared, text }], []);
  const { statements, stats } = written;
  statements.push(...(await indexInShard(db, { namespace: deps.projectIndex, projectId: p.projectId, projectName: p.name }, written, changedAt)));
  await runBatch(db, statements);
  const rows = await db
    .select({
      chunkId: tables.chunks.chunkId,
      tokenCount: tables.chunks.tokenCount,
      startLine: tables.chunks.startLine,
      endLine: tables.chunks.endLine,
      severity: tables.chunks.severity,
    })
    .from(tables.chunks)
    .where(and(eq(tables.chunks.projectId, p.projectId), eq(tables.chunks.path, path)))
    .orderBy(asc(tables.chunks.ordinal))
    .all();
  return { path, type, tokens: stats.tokens, chunks: rows };
}
