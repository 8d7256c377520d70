import { describe, expect, inject, it } from "vitest";
import { AppError } from "../../src/lib/errors";
import { costUsd, failureKind, inputLimit, LONG_CONTEXT_BETA, ModelAdapter, modelError } from "../../src/lib/model/anthropic-adapter";

const base = inject("messagesApiUrl");
const adapter = (maxRetries = 4) => new ModelAdapter({ apiKey: "test-key", baseURL: base, model: "claude-sonnet-4-5", maxRetries });
const requests = async (): Promise<{ path: string; beta: string | null; body: { system?: string; messages: { content: string }[] } }[]> =>
  (await fetch(`${base}/__requests`)).json();

describe("ModelAdapter over the real SDK against a local Messages API", () => {
  it("streams a completion, reports usage, and counts tokens through the API", async () => {
    const seen: string[] = [];
    const r = await adapter().complete("You are Winky A1.", [{ role: "user", content: "plan the change to parser.ts" }], {
      maxTokens: 200,
      onText: (t) => seen.push(t),
    });
    expect(r.text).toBe("echo: plan the change to parser.ts");
    expect(seen.join("")).toBe(r.text);
    expect(seen.length).toBeGreaterThan(1);
    expect(r.usage.outputTokens).toBeGreaterThan(0);
    expect(await adapter().countTokens("sys", [{ role: "user", content: "x".repeat(400) }])).toBe(Math.ceil(403 / 4));
    expect(costUsd("claude-sonnet-4-5", { inputTokens: 100_000, outputTokens: 100_000 })).toBeCloseTo(1.8, 9);
    // Over 200k input tokens, the whole call is billed at the long-context rates.
    expect(costUsd("claude-sonnet-4-5", { inputTokens: 400_000, outputTokens: 10_000 })).toBeCloseTo(2.625, 9);
  });

  it("turns a stream dropped or silent mid-answer into an availability failure, within the idle limit", async () => {
    await fetch(`${base}/__fail`, {
      method: "PUT",
      body: JSON.stringify([
        { status: 200, retryAfter: "0", match: "cut me off", cut: "drop" },
        { status: 200, retryAfter: "0", match: "go quiet", cut: "stall" },
      ]),
    });
    const quick = new ModelAdapter({ apiKey: "test-key", baseURL: base, model: "claude-sonnet-4-5", maxRetries: 0, streamIdleMs: 300 });
    const dropped = await quick.complete("s", [{ role: "user", content: "cut me off" }], { maxTokens: 50 }).catch((e: unknown) => e);
    expect(failureKind(dropped)).toBe("availability");
    const started = Date.now();
    const silent = await quick.complete("s", [{ role: "user", content: "go quiet" }], { maxTokens: 50 }).catch((e: unknown) => e);
    expect(failureKind(silent)).toBe("availability");
    expect(String(silent)).toContain("sent nothing for 300 ms");
    expect(Date.now() - started).toBeLessThan(5000);
    expect(modelError(silent)).toMatchObject({ status: 503, code: "model_unavailable" });
  });

  it("retries 429, 529 and 500, honouring retry-after", async () => {
    await fetch(`${base}/__fail`, {
      method: "PUT",
      body: JSON.stringify([
        { status: 429, retryAfter: "1", match: "after the outage" },
        { status: 529, retryAfter: "0", match: "after the outage" },
        { status: 500, retryAfter: "0", match: "after the outage" },
      ]),
    });
    const before = (await requests()).length;
    const started = Date.now();
    const r = await adapter().complete("s", [{ role: "user", content: "after the outage" }], { maxTokens: 50 });
    expect(r.text).toBe("echo: after the outage");
    expect((await requests()).length - before).toBe(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it("opens the 1M-token window only when asked, and tells size failures from outages", async () => {
    const marker = `long-${crypto.randomUUID()}`;
    const big = `${marker} ${"word ".repeat(170_000)}`;
    const refused = await adapter(0)
      .complete("s", [{ role: "user", content: big }], { maxTokens: 100 })
      .catch((e: unknown) => e);
    expect(failureKind(refused)).toBe("size");
    expect(modelError(refused)).toMatchObject({ status: 413, code: "prompt_too_long" });
    const r = await adapter(0).complete("s", [{ role: "user", content: big }], { maxTokens: 100, longContext: true });
    expect(r.longContext).toBe(true);
    const sent = (await requests()).filter((q) => JSON.stringify(q.body).includes(marker));
    expect(sent.map((q) => q.beta)).toEqual([null, LONG_CONTEXT_BETA]);
    expect(inputLimit("claude-sonnet-4-5", 32_000)).toBe(968_000);
    expect(inputLimit("claude-opus-4-1", 32_000)).toBe(168_000);

    await fetch(`${base}/__fail`, { method: "PUT", body: JSON.stringify([{ status: 529, retryAfter: "0.01", match: marker, times: 2 }]) });
    const outage = await adapter(1)
      .complete("s", [{ role: "user", content: `${marker} short` }], { maxTokens: 10 })
      .catch((e: unknown) => e);
    expect(failureKind(outage)).toBe("availability");
    expect(modelError(outage)).toMatchObject({ status: 503, code: "model_unavailable" });
  });

  it("never sends a raw secret", async () => {
    const key = `AKIA${"ABCDEFGHIJKLMNOP"}`;
    const r = await adapter().complete(`config: aws_key = "${key}"`, [{ role: "user", content: `use ${key} to deploy` }], { maxTokens: 50 });
    expect(r.redacted).toMatchObject({ "aws-access-token": 2 });
    expect(JSON.stringify(await requests())).not.toContain(key);
  });

  it("answers 503 with a clear code when no key is configured", () => {
    expect(() => new ModelAdapter({ apiKey: undefined, model: "claude-sonnet-4-5" })).toThrow(AppError);
  });
});
