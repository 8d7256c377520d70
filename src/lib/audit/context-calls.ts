/**
 * The one writer of audit rows for context calls (assemblies and generations): what was used — chunk
 * references, counts, the model, timings — never chunk text.
 */
import { type AssembleResult, pieceRefs } from "../assembly/assemble";
import { type Db, tables } from "../storage";

export type ContextCall = {
  callId: string;
  projectId: string;
  orgId: string;
  model: string;
  /** The assembled context the call used, if any. */
  context: AssembleResult | undefined;
  meta: Record<string, unknown>;
};

// A row's warnings are capped: 500 hot paths that do not exist must not write half a megabyte of text.
const MAX_WARNINGS = 20;
const MAX_WARNING_CHARS = 300;

/** The meta as stored: its `warnings` (when a list) cut to the first MAX_WARNINGS, each cut short, with the count. */
export function boundedMeta(meta: Record<string, unknown>): Record<string, unknown> {
  const w = meta.warnings;
  if (!Array.isArray(w)) return meta;
  const kept = w.slice(0, MAX_WARNINGS).map((x) => String(x).slice(0, MAX_WARNING_CHARS));
  return { ...meta, warnings: kept, ...(w.length > kept.length ? { warningsOmitted: w.length - kept.length } : {}) };
}

export async function recordContextCall(db: Db, call: ContextCall): Promise<void> {
  await db.insert(tables.contextSessions).values({
    sessionId: call.callId,
    projectId: call.projectId,
    orgId: call.orgId,
    chunksUsed: JSON.stringify(call.context ? pieceRefs(call.context.contextPieces) : []),
    tokensAtCall: call.context?.tokenTotal ?? 0,
    model: call.model,
    resultMeta: JSON.stringify(boundedMeta(call.meta)),
  });
}
