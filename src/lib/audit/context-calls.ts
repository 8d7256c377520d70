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

export async function recordContextCall(db: Db, call: ContextCall): Promise<void> {
  await db.insert(tables.contextSessions).values({
    sessionId: call.callId,
    projectId: call.projectId,
    orgId: call.orgId,
    chunksUsed: JSON.stringify(call.context ? pieceRefs(call.context.contextPieces) : []),
    tokensAtCall: call.context?.tokenTotal ?? 0,
    model: call.model,
    resultMeta: JSON.stringify(call.meta),
  });
}
