/**
 * A generation run as a session streams it: text batched into `tokens` events, every other event
 * published as it happens (calls metered at once), the turn remembered, and the result or the error as
 * the last event. The run itself is `runGeneration`, passed in as `run`.
 */

import { orgWide } from "../auth/access";
import { AppError, envelopeOf } from "../errors";
import { configuredModel } from "../model/anthropic-adapter";
import type { Assembler } from "../model/generate";
import type { GenerationEvent } from "../model/generation-types";
import { type GeneratePrototype, type GenerationResponse, runGeneration } from "../model/run-generation";
import { getProject } from "../projects/projects";
import { openDb } from "../storage";
import { type Tokenizer, tokenizerFor } from "../tokenizer";
import { recordUsage } from "../usage/meter";
import type { MeteredCall } from "./cost-meter";
import type { SessionMeta } from "./ownership";
import type { SessionStore } from "./session-store";
import { TokenBatcher } from "./token-batcher";

export type SessionRunDeps = {
  publish: (type: string, data: unknown) => void;
  meter: (call: MeteredCall) => void;
  remember: (messages: { role: string; content: string }[], paths: string[]) => void;
  run: (emit: (e: GenerationEvent) => void) => Promise<GenerationResponse>;
  /** The HTTP request that started the run, named in its `error` event. */
  requestId?: string | undefined;
};

/** A run may start in a session of its project with no other run in progress. */
export function checkCanGenerate(meta: SessionMeta, body: Pick<GeneratePrototype, "projectId">, running: boolean): void {
  if (body.projectId !== meta.projectId) throw new AppError(400, "session_project_mismatch", `session ${meta.sessionId} belongs to project ${meta.projectId}`);
  if (running) throw new AppError(409, "session_busy", "a generation is already running in this session; follow it on the WebSocket");
}

export async function streamGeneration(deps: SessionRunDeps, body: GeneratePrototype): Promise<GenerationResponse> {
  const batcher = new TokenBatcher((b) => deps.publish("tokens", b));
  const emit = (e: GenerationEvent): void => {
    if (e.type === "tokens") {
      batcher.push(e.pass, e.text);
      return;
    }
    batcher.flush();
    if (e.type === "call") deps.meter(e);
    const { type, ...data } = e;
    deps.publish(type, data);
  };
  try {
    deps.publish("started", { prompt: body.prompt, dryRun: body.dryRun });
    const result = await deps.run(emit);
    batcher.flush();
    if (!("dryRun" in result)) {
      const changed = result.diffs.flatMap((d) => ("path" in d && d.path ? [d.path] : []));
      deps.remember(
        [
          { role: "user", content: body.prompt },
          { role: "assistant", content: `${result.plan.summary} (changed: ${changed.join(", ") || "a diff"})` },
        ],
        [...body.hotPaths, ...changed],
      );
    }
    deps.publish("result", result);
    return result;
  } catch (e) {
    batcher.flush();
    // The API's one envelope; an unexpected error is named generically, never by its text.
    deps.publish("error", envelopeOf(e, deps.requestId));
    throw e;
  }
}

export type SessionRun = {
  env: Env;
  meta: SessionMeta;
  store: SessionStore;
  orgId: string;
  /** The key that asked: the run's model spend is metered to it. */
  keyId?: string | undefined;
  body: GeneratePrototype;
  requestId?: string | undefined;
  publish: (type: string, data: unknown) => void;
  /** The session's assembler (its hot window and memory) for a tokenizer. */
  assembler: (tokenizer: Tokenizer) => Assembler;
};

/** `runGeneration` for the session's project, with the session's assembler, streamed as its events. */
export function generateInSession(x: SessionRun): Promise<GenerationResponse> {
  const db = openDb(x.env.DB);
  // Inside the run, after `started`: a failure here (an unknown model's tokenizer) ends as an `error` event.
  const run: SessionRunDeps["run"] = async (emit) => {
    const project = await getProject(db, x.meta.projectId, orgWide(x.orgId));
    const assemble = x.assembler(tokenizerFor(configuredModel(x.env)));
    const spend = (use: { costUsd: number; model: string }) =>
      recordUsage(db, { orgId: x.orgId, projectId: project.projectId, keyId: x.keyId ?? null, model: use.model, costUsd: use.costUsd, requests: 1 });
    return runGeneration(x.env, db, project, x.orgId, x.body, { assemble, emit, sessionId: x.meta.sessionId, spend });
  };
  const deps: SessionRunDeps = {
    publish: x.publish,
    meter: (call) => x.store.meter.add(call),
    remember: (messages, paths) => x.store.memory.remember(messages, paths),
    run,
    requestId: x.requestId,
  };
  return streamGeneration(deps, x.body);
}
