/** An assembly as the API serves it: the project's shard assembles, and the call is audited. */

import { recordContextCall } from "../audit/context-calls";
import { newId } from "../crypto/hash";
import { type ErrorResult, unwrap } from "../errors";
import type { Db } from "../storage";
import type { AssembleRequest, AssembleResult } from "./assemble";

export type ShardAssembler = { getByName(name: string): { assemble(req: AssembleRequest): Promise<AssembleResult | ErrorResult> } };

export async function assembleForProject(
  deps: { db: Db; shards: ShardAssembler },
  call: { projectId: string; orgId: string; model: string } & AssembleRequest,
): Promise<AssembleResult & { callId: string }> {
  const { projectId, orgId, model, ...request } = call;
  const result = unwrap(await deps.shards.getByName(projectId).assemble(request));
  const callId = newId("ctx");
  await recordContextCall(deps.db, {
    callId,
    projectId,
    orgId,
    model,
    context: result,
    meta: { budget: result.tokenBudget, utilization: result.utilization, timings: result.timings, warnings: result.warnings },
  });
  return { callId, ...result };
}
