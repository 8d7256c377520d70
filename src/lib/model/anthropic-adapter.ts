/**
 * The one model adapter, over @anthropic-ai/sdk: model id, base URL and key from configuration,
 * streaming, retries with backoff on 429/529/5xx honouring `retry-after` (the SDK's own policy), token
 * counting through the API, and every outgoing text passed through redactSecrets first.
 */
import Anthropic from "@anthropic-ai/sdk";
import { AppError } from "../errors";
import { redactSecrets } from "../security/redact-secrets";

export type ModelConfig = { apiKey: string | undefined; baseURL?: string | undefined; model: string; maxRetries?: number };
export type ChatMessage = { role: "user" | "assistant"; content: string };
export type Completion = { text: string; usage: { inputTokens: number; outputTokens: number }; stopReason: string | null; redacted: Record<string, number> };

// USD per million tokens (input, output); unknown models are costed as the most expensive listed.
const PRICES: [prefix: string, input: number, output: number][] = [
  ["claude-opus", 15, 75],
  ["claude-sonnet", 3, 15],
  ["claude-haiku", 0.8, 4],
];

export function costUsd(model: string, usage: { inputTokens: number; outputTokens: number }): number {
  const [, input, output] = PRICES.find(([p]) => model.startsWith(p)) ?? (PRICES[0] as [string, number, number]);
  return (usage.inputTokens * input + usage.outputTokens * output) / 1_000_000;
}

export class ModelAdapter {
  private readonly client: Anthropic;

  constructor(readonly config: ModelConfig) {
    if (!config.apiKey) throw new AppError(503, "model_unavailable", "no model API key is configured (ANTHROPIC_API_KEY); use dryRun to see the prompts");
    this.client = new Anthropic({ apiKey: config.apiKey, baseURL: config.baseURL ?? null, maxRetries: config.maxRetries ?? 4 });
  }

  private sanitize(system: string, messages: ChatMessage[]): { system: string; messages: ChatMessage[]; redacted: Record<string, number> } {
    const redacted: Record<string, number> = {};
    const clean = (t: string): string => {
      const r = redactSecrets(t);
      for (const [k, n] of Object.entries(r.found)) redacted[k] = (redacted[k] ?? 0) + n;
      return r.text;
    };
    return { system: clean(system), messages: messages.map((m) => ({ role: m.role, content: clean(m.content) })), redacted };
  }

  /** Input tokens the API counts for this prompt (after redaction, as it would be sent). */
  async countTokens(system: string, messages: ChatMessage[]): Promise<number> {
    const s = this.sanitize(system, messages);
    const r = await this.client.messages.countTokens({ model: this.config.model, system: s.system, messages: s.messages });
    return r.input_tokens;
  }

  /** Streams a completion; `onText` receives text as it arrives. */
  async complete(system: string, messages: ChatMessage[], opts: { maxTokens: number; onText?: (text: string) => void }): Promise<Completion> {
    const s = this.sanitize(system, messages);
    const stream = this.client.messages.stream({ model: this.config.model, max_tokens: opts.maxTokens, system: s.system, messages: s.messages });
    if (opts.onText) stream.on("text", opts.onText);
    const final = await stream.finalMessage();
    const text = final.content.map((b) => (b.type === "text" ? b.text : "")).join("");
    return {
      text,
      usage: { inputTokens: final.usage.input_tokens, outputTokens: final.usage.output_tokens },
      stopReason: final.stop_reason,
      redacted: s.redacted,
    };
  }
}
