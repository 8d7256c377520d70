/**
 * A generation without a session, as the API serves it (REST and MCP alike): the project's shard
 * assembles each pass with the configured model's tokenizer, and the run's spend is added to the
 * caller's usage.
 */
import type { KeyPrincipal } from "../auth";
import { unwrap } from "../errors";
import type { IndexShard } from "../index-store";
import { measuredAssembler, metricsRecorder, recordQuietly } from "../metrics";
import type { ProjectRow } from "../projects/projects";
import type { Db } from "../storage";
import { tokenizerFor } from "../tokenizer";
import { recordUsage } from "../usage";
import { configuredModel } from "./anthropic-adapter";
import type { Assembler, GenerationEvent } from "./generate";
import { type GeneratePrototype, runGeneration } from "./run-generation";

export type ShardDirectory = { getByName(name: string): Pick<IndexShard, "assemble"> };

export async function generateForProject(
  deps: { env: Env; db: Db; shards: ShardDirectory },
  project: ProjectRow,
  key: KeyPrincipal,
  body: GeneratePrototype,
  emit?: (e: GenerationEvent) => void,
) {
  const { env, db } = deps;
  const shard = deps.shards.getByName(project.projectId);
  const tokenizer = tokenizerFor(configuredModel(env));
  const unmeasured: Assembler = async (query, budget, hotPaths, opts = {}) =>
    unwrap(
      await shard.assemble({
        prompt: query,
        budget,
        hotPaths,
        tokenizer,
        conversation: [],
        includeText: true,
        ...(opts.instruction ? { instruction: opts.instruction } : {}),
      }),
    );
  // Each pass's assembly is a metric; the writes are awaited once the run is over, however it ends.
  const recorder = metricsRecorder(env);
  const writes: Promise<void>[] = [];
  const assemble = measuredAssembler(unmeasured, { orgId: key.orgId, projectId: project.projectId }, (events) => writes.push(recordQuietly(recorder, events)));
  const spend = (use: { costUsd: number; model: string }) =>
    recordUsage(db, { orgId: key.orgId, projectId: project.projectId, keyId: key.keyId, model: use.model, costUsd: use.costUsd, requests: 1 });
  try {
    return await runGeneration(env, db, project, key.orgId, body, { assemble, spend, ...(emit ? { emit } : {}) });
  } finally {
    await Promise.all(writes);
  }
}
