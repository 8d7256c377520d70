/**
 * An assembly as the API serves it: the project's shard assembles, and the call is audited. The
 * shard's stage timings are read off its clock, which a deployed Worker advances only across I/O; the
 * `shard` timing is measured here, around the call to the shard (itself I/O), so it is real everywhere,
 * and so is `audit`, around the audit row's insert (the row holds the timings before it).
 */

import { recordContextCall } from "../audit/context-calls";
import type { Access } from "../auth/access";
import { newId } from "../crypto/hash";
import { type ErrorResult, unwrap } from "../errors";
import { type GovernanceSettings, governanceRead } from "../governance";
import { type ProjectRow, projectRead } from "../projects/projects";
import { type Db, type Read, together } from "../storage";
import { quotaRead } from "../usage";
import type { AssembleRequest, AssembleResult } from "./assemble";

/**
 * What an assembly reads before its shard, as one read to send as one batch (`readNow`): the project (404
 * outside the key's reach), the org's settings, and the tokens quota (402 when used up, else its warnings).
 */
export function readsBeforeAssembly(db: Db, access: Access, projectId: string): Read<[ProjectRow, GovernanceSettings, string[]]> {
  return together(
    [projectRead(db, projectId, access), governanceRead(db, access.orgId), quotaRead(db, access.orgId, "tokens", { projectId })],
    (values) => values,
  );
}

export type ShardAssembler = { getByName(name: string): { assemble(req: AssembleRequest): Promise<AssembleResult | ErrorResult> } };

export async function assembleForProject(
  deps: { db: Db; shards: ShardAssembler },
  /** `waited`: the caller's own waits before the call (the route's reads), kept with the shard's timings. */
  call: { projectId: string; orgId: string; model: string; waited?: Record<string, number> } & AssembleRequest,
): Promise<AssembleResult & { callId: string }> {
  const { projectId, orgId, model, waited, ...request } = call;
  const started = Date.now();
  const assembled = unwrap(await deps.shards.getByName(projectId).assemble(request));
  const result = { ...assembled, timings: { ...assembled.timings, ...waited, shard: Date.now() - started } };
  const callId = newId("ctx");
  const auditStarted = Date.now();
  await recordContextCall(deps.db, {
    callId,
    projectId,
    orgId,
    model,
    context: result,
    meta: {
      budget: result.tokenBudget,
      utilization: result.utilization,
      timings: result.timings,
      warnings: result.warnings,
      // What a rerank did and cost (its order is in the pieces' order already).
      ...(result.rerank ? { rerank: { status: result.rerank.status, model: result.rerank.model, costUsd: result.rerank.costUsd } } : {}),
    },
  });
  return { callId, ...result, timings: { ...result.timings, audit: Date.now() - auditStarted } };
}
