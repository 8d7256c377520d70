import { describe, expect, inject, it } from "vitest";
import { AppError } from "../../src/lib/errors";
import { costUsd, ModelAdapter } from "../../src/lib/model/anthropic-adapter";

const base = inject("messagesApiUrl");
const adapter = (maxRetries = 4) => new ModelAdapter({ apiKey: "test-key", baseURL: base, model: "claude-sonnet-4-5", maxRetries });
const requests = async (): Promise<{ path: string; body: { system?: string; messages: { content: string }[] } }[]> =>
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
    expect(costUsd("claude-sonnet-4-5", { inputTokens: 1_000_000, outputTokens: 1_000_000 })).toBe(18);
  });

  it("retries 429 and 529, honouring retry-after", async () => {
    await fetch(`${base}/__fail`, {
      method: "PUT",
      body: JSON.stringify([
        { status: 429, retryAfter: "1" },
        { status: 529, retryAfter: "0" },
      ]),
    });
    const before = (await requests()).length;
    const started = Date.now();
    const r = await adapter().complete("s", [{ role: "user", content: "after the outage" }], { maxTokens: 50 });
    expect(r.text).toBe("echo: after the outage");
    expect((await requests()).length - before).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it("never sends a raw secret", async () => {
    const key = `AKIA${"ABCDEFGHIJKLMNOP"}`;
    const r = await adapter().complete(`config: aws_key = "${key}"`, [{ role: "user", content: `use ${key} to deploy` }], { maxTokens: 50 });
    expect(r.redacted).toMatchObject({ "aws-access-key": 2 });
    expect(JSON.stringify(await requests())).not.toContain(key);
  });

  it("answers 503 with a clear code when no key is configured", () => {
    expect(() => new ModelAdapter({ apiKey: undefined, model: "claude-sonnet-4-5" })).toThrow(AppError);
  });
});
