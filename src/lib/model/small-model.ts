/**
 * The small model (a Haiku) as model-written summaries and reranking use it: one user turn, a short
 * answer, priced by the model table. It is the one adapter underneath, so secrets are redacted before
 * sending, the SDK retries, and the org's concurrency gate applies.
 */
import { type ConcurrencyGate, ModelAdapter, type Usage } from "./anthropic-adapter";

export type SmallModel = {
  model: string;
  complete(system: string, user: string, maxTokens: number, signal?: AbortSignal): Promise<{ text: string; usage: Usage; costUsd: number }>;
};

export function smallModelClient(config: {
  apiKey: string | undefined;
  baseURL?: string | undefined;
  model: string;
  gate?: ConcurrencyGate;
  maxRetries?: number;
}): SmallModel {
  const adapter = new ModelAdapter({ ...config, ...(config.gate ? { gate: config.gate } : {}) });
  return {
    model: config.model,
    async complete(system, user, maxTokens, signal) {
      const r = await adapter.complete(system, [{ role: "user", content: user }], { maxTokens, ...(signal ? { signal } : {}) });
      return { text: r.text, usage: r.usage, costUsd: adapter.cost(r.usage) };
    },
  };
}
