/**
 * The one model adapter, over @anthropic-ai/sdk: model id, base URL and key from configuration,
 * streaming, retries with backoff on 429/529/5xx honouring `retry-after` (the SDK's own policy), token
 * counting through the API, the 1M-token context option for prompts over the standard window (a beta
 * header on the models that need one), a
 * per-org concurrency cap around every call, and every outgoing text passed through redactSecrets first.
 */
import Anthropic from "@anthropic-ai/sdk";
import { sha256Hex } from "../crypto/hash";
import { AppError } from "../errors";
import { redactSecrets } from "../security/redact-secrets";
import { DEFAULT_MODEL } from "./default-model";

export { DEFAULT_MODEL };

/** Takes a slot of the org's model concurrency for the duration of `fn`. */
export type ConcurrencyGate = <T>(fn: () => Promise<T>) => Promise<T>;

export type ModelConfig = {
  apiKey: string | undefined;
  baseURL?: string | undefined;
  model: string;
  maxRetries?: number;
  gate?: ConcurrencyGate;
  /** A stream that sends nothing for this long is abandoned as unavailable (default 60 s). */
  streamIdleMs?: number;
};

// The API sends a ping at least every few seconds while it works; a minute of silence is a dead stream.
const STREAM_IDLE_MS = 60_000;
export type ChatMessage = { role: "user" | "assistant"; content: string };
export type Usage = { inputTokens: number; outputTokens: number };
/** `promptSha256`: the fingerprint of exactly what was sent (system and messages, after redaction). */
export type Completion = {
  text: string;
  usage: Usage;
  stopReason: string | null;
  redacted: Record<string, number>;
  longContext: boolean;
  promptSha256: string;
};
/** `signal`: aborting it ends the call (a caller's deadline); the SDK reports it as a user abort. */
export type CallOptions = { maxTokens: number; onText?: (text: string) => void; longContext?: boolean; signal?: AbortSignal };

/** The model generation uses: the `MODEL` setting, else the default. */
export function configuredModel(env: { MODEL?: string | undefined }): string {
  return env.MODEL ?? DEFAULT_MODEL;
}

/**
 * What the adapter knows of each model family (prefix match, most specific first): its context window,
 * whether 1M tokens needs the `context-1m` beta (Sonnet 4.x) or is native (the 5 family), and its price
 * in USD per million tokens; the long-context rates apply to a whole call over 200k input tokens.
 * Unknown models get the standard window and the most expensive price listed, so costs are never
 * under-reported.
 */
type ModelSpec = { prefix: string; window: number; betaWindow?: number; input: number; output: number; longInput?: number; longOutput?: number };
export const STANDARD_WINDOW = 200_000;
export const LONG_WINDOW = 1_000_000;
export const LONG_CONTEXT_BETA = "context-1m-2025-08-07";
const MODELS: ModelSpec[] = [
  { prefix: "claude-sonnet-5", window: LONG_WINDOW, input: 2, output: 10 },
  { prefix: "claude-opus-5-5", window: LONG_WINDOW, input: 4, output: 20 },
  { prefix: "claude-opus-5", window: LONG_WINDOW, input: 5, output: 25 },
  { prefix: "claude-fable-5", window: LONG_WINDOW, input: 10, output: 50 },
  { prefix: "claude-sonnet-4", window: STANDARD_WINDOW, betaWindow: LONG_WINDOW, input: 3, output: 15, longInput: 6, longOutput: 22.5 },
  { prefix: "claude-haiku-4-5", window: STANDARD_WINDOW, input: 1, output: 5 },
  { prefix: "claude-haiku", window: STANDARD_WINDOW, input: 0.8, output: 4 },
  ...["claude-opus-4-5", "claude-opus-4-6", "claude-opus-4-7", "claude-opus-4-8"].map((prefix) => ({ prefix, window: STANDARD_WINDOW, input: 5, output: 25 })),
  { prefix: "claude-opus-4", window: STANDARD_WINDOW, input: 15, output: 75 },
];
const UNKNOWN: ModelSpec = { prefix: "", window: STANDARD_WINDOW, input: 15, output: 75 };
const specOf = (model: string): ModelSpec => MODELS.find((m) => model.startsWith(m.prefix)) ?? UNKNOWN;

/** Whether a prompt over the standard window needs the 1M beta header for this model. */
export function needsLongContextBeta(model: string): boolean {
  return specOf(model).betaWindow !== undefined;
}

/** The largest prompt (input tokens) a call may send, leaving room for `maxTokens` of answer. */
export function inputLimit(model: string, maxTokens: number): number {
  const spec = specOf(model);
  return (spec.betaWindow ?? spec.window) - maxTokens;
}

export function costUsd(model: string, usage: Usage): number {
  const p = specOf(model);
  const long = usage.inputTokens > STANDARD_WINDOW;
  const input = long ? (p.longInput ?? p.input) : p.input;
  const output = long ? (p.longOutput ?? p.output) : p.output;
  return (usage.inputTokens * input + usage.outputTokens * output) / 1_000_000;
}

/**
 * Why a call failed, when it is a failure the orchestrator can work around by sending less at once:
 * "size" (the prompt is over the window) or "availability" (rate limits, overload, 5xx and connection
 * failures after the SDK's retries). Anything else is not retried by other means.
 */
export function failureKind(err: unknown): "size" | "availability" | null {
  if (err instanceof Anthropic.APIConnectionError) return "availability";
  if (err instanceof Anthropic.APIError) {
    const status = err.status ?? 0;
    if (status === 429 || status >= 500) return "availability";
    if (status === 413) return "size";
    if (status === 400 && /prompt is too long|exceed context limit|context window|request_too_large|too many (input )?tokens/i.test(err.message)) return "size";
  }
  return null;
}

/** A model API failure as the one error type of the edge; anything else is passed through. */
export function modelError(err: unknown): unknown {
  if (!(err instanceof Anthropic.APIError)) return err;
  const kind = failureKind(err);
  if (kind === "availability") return new AppError(503, "model_unavailable", `the model API is unavailable after retries: ${err.message}`);
  if (kind === "size") return new AppError(413, "prompt_too_long", `the model refused the prompt's size: ${err.message}`);
  return new AppError(502, "model_error", `the model API refused the call: ${err.message}`);
}

export class ModelAdapter {
  private readonly client: Anthropic;
  private readonly gate: ConcurrencyGate;

  constructor(readonly config: ModelConfig) {
    if (!config.apiKey) throw new AppError(503, "model_unavailable", "no model API key is configured (ANTHROPIC_API_KEY); use dryRun to see the prompts");
    this.client = new Anthropic({ apiKey: config.apiKey, baseURL: config.baseURL ?? null, maxRetries: config.maxRetries ?? 4 });
    this.gate = config.gate ?? ((fn) => fn());
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

  private headers(longContext: boolean | undefined, signal?: AbortSignal): { headers?: Record<string, string>; signal?: AbortSignal } | undefined {
    const headers = longContext && needsLongContextBeta(this.config.model) ? { headers: { "anthropic-beta": LONG_CONTEXT_BETA } } : undefined;
    return signal ? { ...headers, signal } : headers;
  }

  /** What a call with this usage costs on this model, in USD. */
  cost(usage: Usage): number {
    return costUsd(this.config.model, usage);
  }

  /** The largest prompt a call with `maxTokens` of answer may send to this model. */
  inputLimit(maxTokens: number): number {
    return inputLimit(this.config.model, maxTokens);
  }

  /** Input tokens the API counts for this prompt (after redaction, as it would be sent). */
  async countTokens(system: string, messages: ChatMessage[], longContext = false): Promise<number> {
    const s = this.sanitize(system, messages);
    const r = await this.client.messages.countTokens({ model: this.config.model, system: s.system, messages: s.messages }, this.headers(longContext));
    return r.input_tokens;
  }

  /** Streams a completion; `onText` receives text as it arrives. Waits for a slot of the org's cap first. */
  async complete(system: string, messages: ChatMessage[], opts: CallOptions): Promise<Completion> {
    const s = this.sanitize(system, messages);
    const promptSha256 = await sha256Hex(JSON.stringify({ system: s.system, messages: s.messages }));
    return this.gate(async () => {
      const stream = this.client.messages.stream(
        { model: this.config.model, max_tokens: opts.maxTokens, system: s.system, messages: s.messages },
        this.headers(opts.longContext, opts.signal),
      );
      if (opts.onText) stream.on("text", opts.onText);
      // A stream that stalls or breaks mid-answer is an availability failure like an overload, so the
      // orchestrator's fallbacks apply; without this a silent stream would hold the run until the SDK's
      // ten-minute timeout, and a cut one would surface as an unclassified error.
      const idleMs = this.config.streamIdleMs ?? STREAM_IDLE_MS;
      let stalled = false;
      let idle = setTimeout(onIdle, idleMs);
      function onIdle(): void {
        stalled = true;
        stream.abort();
      }
      stream.on("streamEvent", () => {
        clearTimeout(idle);
        idle = setTimeout(onIdle, idleMs);
      });
      let final: Awaited<ReturnType<typeof stream.finalMessage>>;
      try {
        final = await stream.finalMessage();
      } catch (e) {
        if (stalled) throw new Anthropic.APIConnectionTimeoutError({ message: `the model stream sent nothing for ${idleMs} ms` });
        if (e instanceof Anthropic.APIError) throw e;
        throw new Anthropic.APIConnectionError({
          message: `the model stream broke: ${e instanceof Error ? e.message : String(e)}`,
          cause: e instanceof Error ? e : undefined,
        });
      } finally {
        clearTimeout(idle);
      }
      const text = final.content.map((b) => (b.type === "text" ? b.text : "")).join("");
      return {
        text,
        usage: { inputTokens: final.usage.input_tokens, outputTokens: final.usage.output_tokens },
        stopReason: final.stop_reason,
        redacted: s.redacted,
        longContext: Boolean(opts.longContext),
        promptSha256,
      };
    });
  }
}
