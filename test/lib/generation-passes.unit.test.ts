import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { AssembleResult, ContextPiece } from "../../src/lib/assembly/assemble";
import { AppError } from "../../src/lib/errors";
import type { Completion } from "../../src/lib/model/anthropic-adapter";
import { SentSources, unknownCitations } from "../../src/lib/model/citations";
import { fitPrompt, type PassContext } from "../../src/lib/model/fit-prompt";
import type { Assembler, GenerationEvent, Model } from "../../src/lib/model/generation-types";
import { askJson, parseJsonAnswer } from "../../src/lib/model/json-answer";
import { CHANGE_FORMAT, crossCheckInstruction, expandInstruction, failingOutput, PLAN_FORMAT, planInstruction, planQuery } from "../../src/lib/model/prompts";
import { Plan } from "../../src/lib/model/schemas";
import { segmentCount, segmentFiles } from "../../src/lib/model/segmented";
import { verifyAndRepair } from "../../src/lib/model/verify-repair";
import type { CheckedStatus } from "../../src/lib/sandbox/run-status";

const completion = (text: string): Completion => ({
  text,
  usage: { inputTokens: 10, outputTokens: 5 },
  stopReason: "end_turn",
  redacted: {},
  longContext: false,
  promptSha256: "sha",
});

const piece = (chunkId: string, sourcePath: string, tokenCount: number): ContextPiece => ({
  chunkId,
  kind: "chunk",
  tokenCount,
  textPreview: "",
  sourcePath,
  startLine: 1,
  endLine: 2,
  score: 1,
  reasons: [],
});

const assembled = (tokenTotal: number, pieces: ContextPiece[] = []): AssembleResult => ({
  contextPieces: pieces,
  tokenTotal,
  tokenBudget: tokenTotal,
  sections: { system: 0, conversation: 0, instruction: 0, snippets: tokenTotal, summaries: 0, safetyMargin: 0 },
  utilization: 1,
  timings: {},
  warnings: [],
  contextText: "x".repeat(tokenTotal),
});

/** A model whose API counts `factor` tokens per character of the user turn and answers from `answers` in order. */
function fakeModel(factor: number, answers: string[] = []): Model & { sent: string[][] } {
  const sent: string[][] = [];
  return {
    sent,
    complete: async (_system, messages) => {
      sent.push(messages.map((m) => m.content));
      return completion(answers.shift() ?? "");
    },
    countTokens: async (_system, messages) => Math.ceil(messages.reduce((n, m) => n + m.content.length, 0) * factor),
    inputLimit: () => 1_000_000,
    cost: () => 0.01,
  };
}

const passContext = (model: Model, assemble: Assembler): PassContext & { events: GenerationEvent[] } => {
  const events: GenerationEvent[] = [];
  return { model, assemble, emit: (e) => events.push(e), warnings: [], ratio: 1, events };
};

describe("parseJsonAnswer", () => {
  it("reads the object between the first { and the last }, around any prose", () => {
    expect(parseJsonAnswer('Here: {"summary": "s", "steps": [{"description": "d"}]} done', Plan)).toEqual({
      ok: true,
      value: { summary: "s", steps: [{ description: "d", files: [] }] },
    });
  });

  it("says what is wrong: no object, invalid JSON, or the schema's issues by path", () => {
    expect(parseJsonAnswer("no json here", Plan)).toEqual({ ok: false, error: "no JSON object found" });
    expect(parseJsonAnswer("{oops}", Plan)).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid JSON \(/) });
    expect(parseJsonAnswer('{"summary": "", "steps": []}', Plan)).toEqual({
      ok: false,
      error: "summary: Too small: expected string to have >=1 characters; steps: Too small: expected array to have >=1 items",
    });
  });
});

describe("askJson", () => {
  const Answer = z.object({ n: z.number() });

  it("repairs once: the invalid answer goes back with what was wrong, and every call is reported", async () => {
    const model = fakeModel(1, ["not json", '{"n": 2}']);
    const calls: Completion[] = [];
    expect(await askJson(model, "sys", [{ role: "user", content: "q" }], Answer, { maxTokens: 10 }, (c) => calls.push(c))).toEqual({ n: 2 });
    expect(calls).toHaveLength(2);
    expect(model.sent[1]).toEqual(["q", "not json", "That answer is not valid: no JSON object found. Reply again with valid JSON only."]);
  });

  it("fails with 502 model_invalid_output after the repair call is invalid too", async () => {
    const model = fakeModel(1, ["no", "still no"]);
    await expect(askJson(model, "sys", [{ role: "user", content: "q" }], Answer, { maxTokens: 10 })).rejects.toMatchObject({
      status: 502,
      code: "model_invalid_output",
    });
  });
});

describe("fitPrompt", () => {
  it("re-assembles within a budget scaled by the overshoot, learns the count ratio, and reports both", async () => {
    const budgets: number[] = [];
    const ctx = passContext(fakeModel(1.5), async (_q, budget) => {
      budgets.push(budget);
      return assembled(budget);
    });
    const fit = await fitPrompt(ctx, { pass: "plan", query: "q", instruction: "i", budget: 1000, hotPaths: [], maxTokens: 100 });
    expect(budgets).toEqual([1000, Math.floor(1000 * (1000 / 1500) * 0.97)]);
    expect(fit.counted).toBeLessThanOrEqual(1000);
    expect(ctx.ratio).toBe(1.5);
    expect(ctx.events.map((e) => e.type)).toEqual(["trimmed", "context"]);
    expect(ctx.warnings).toHaveLength(1);
  });

  it("gives up with 413 prompt_too_long after three attempts", async () => {
    const ctx = passContext(fakeModel(1), async () => assembled(5000));
    await expect(fitPrompt(ctx, { pass: "expand", query: "q", instruction: "i", budget: 1000, hotPaths: [], maxTokens: 100 })).rejects.toMatchObject({
      status: 413,
      code: "prompt_too_long",
    });
    expect(ctx.events.filter((e) => e.type === "trimmed")).toHaveLength(3);
  });
});

describe("segmentation", () => {
  it("splits into 2 to 4 parts of about 100k tokens", () => {
    expect([1, 150_000, 250_000, 900_000].map(segmentCount)).toEqual([2, 2, 3, 4]);
  });

  it("spreads files largest first onto the lightest group, and leaves no group empty", () => {
    const pieces = [piece("a1", "a", 50), piece("a2", "a", 50), piece("b", "b", 60), piece("c", "c", 30)];
    expect(segmentFiles(pieces, 2)).toEqual([["a"], ["b", "c"]]);
    expect(segmentFiles([piece("a", "a", 1)], 3)).toEqual([["a"]]);
  });
});

describe("prompt templates", () => {
  const plan = { summary: "add mul", steps: [{ description: "add it", files: ["calc.js"] }] };

  it("end each pass's instruction with its answer format", () => {
    expect(planInstruction("Do it")).toBe(`Do it\n\n${PLAN_FORMAT}`);
    expect(expandInstruction("Do it", "P")).toBe(`Do it\n\nPlan:\nP\n\n${CHANGE_FORMAT}`);
    expect(crossCheckInstruction("Do it", "P", [{ files: [], sources: [] }])).toMatch(/proposed in 1 parts:\nPart 1: .*\n\n.*Answer with JSON only/s);
  });

  it("search later passes with the request and the plan's words, and show only failing commands", () => {
    expect(planQuery("Do it", plan)).toBe("Do it\nadd mul\nadd it calc.js");
    const ok = { command: "true", exitCode: 0, stdout: "", stderr: "" };
    const bad = { command: "npm test", exitCode: 1, stdout: "out", stderr: "err" };
    expect(failingOutput([ok, bad] as Parameters<typeof failingOutput>[0])).toBe("$ npm test (exit 1)\nout\nerr");
  });
});

describe("unknownCitations", () => {
  const sent = new SentSources();
  sent.add([
    { chunkId: "sent", startLine: 10, endLine: 40 },
    { chunkId: "sent", startLine: 90, endLine: 95 },
  ]);

  it("names every cited chunk that was not sent", () => {
    const change = { files: [], sources: [{ claim: "c", chunkIds: ["sent", "invented"] }] };
    expect(unknownCitations(change, sent)).toEqual(['claim "c" cites invented, which was not in the context sent']);
  });

  it("checks cited lines against the line ranges sent of that chunk, not only its id", () => {
    const change = { files: [], sources: [{ claim: "c", chunkIds: ["sent:12-30", "sent:91-95", "sent:35-60", "sent:1-5", "invented:1-2"] }] };
    expect(unknownCitations(change, sent)).toEqual([
      'claim "c" cites lines 35-60 of sent, which were not in the context sent',
      'claim "c" cites lines 1-5 of sent, which were not in the context sent',
      'claim "c" cites invented, which was not in the context sent',
    ]);
  });
});

describe("verifyAndRepair", () => {
  it("repairs a failing change until it passes, with the failing output in the repair prompt", async () => {
    const repaired = { files: [{ path: "calc.js", content: "fixed" }], sources: [{ claim: "c", chunkIds: ["x"] }] };
    const model = fakeModel(1, [JSON.stringify(repaired)]);
    const ctx = passContext(model, async () => assembled(100, [piece("k", "calc.js", 100)]));
    const statuses: CheckedStatus[] = ["failed", "passed"];
    const result = await verifyAndRepair(
      ctx,
      async () => ({
        runId: `run${statuses.length}`,
        status: statuses.shift() ?? "passed",
        results: [{ command: "t", exitCode: 1, stdout: "boom", stderr: "" }] as never,
      }),
      { prompt: "p", budget: 100_000, change: { files: [{ path: "calc.js", content: "broken" }], sources: [] }, sent: new SentSources() },
    );
    expect(result.repairs).toBe(1);
    expect(result.verification.map((v) => v.status)).toEqual(["failed", "passed"]);
    expect(result.change).toEqual(repaired);
    expect(ctx.events.map((e) => e.type)).toEqual(["verified", "repair", "context", "call", "verified"]);
    expect(ctx.warnings).toEqual(['claim "c" cites x, which was not in the context sent']);
  });

  it("stops at a run that collected no test: unverified, said in the warnings, and no repair pass spent", async () => {
    const model = fakeModel(1, []);
    const ctx = passContext(model, async () => assembled(100));
    const result = await verifyAndRepair(
      ctx,
      async () => ({
        runId: "run1",
        status: "no_tests",
        results: [{ command: "python3 -m unittest discover -q", exitCode: 0, stdout: "", stderr: "Ran 0 tests" }] as never,
      }),
      { prompt: "p", budget: 100_000, change: { files: [{ path: "calc.py", content: "x" }], sources: [] }, sent: new SentSources() },
    );
    expect(result.repairs).toBe(0);
    expect(result.verification.map((v) => v.status)).toEqual(["no_tests"]);
    expect(model.sent).toEqual([]);
    expect(ctx.events.map((e) => e.type)).toEqual(["verified"]);
    expect(ctx.warnings).toEqual(["unverified: the project's checks ran no test (sandbox run run1)"]);
  });

  it("stops when the sandbox lacks the checks' toolchain: unverified, said in the warnings, no repair pass spent", async () => {
    const model = fakeModel(1, []);
    const ctx = passContext(model, async () => assembled(100));
    const result = await verifyAndRepair(
      ctx,
      async () => {
        throw new AppError(422, "toolchain_missing", "`go test ./...` needs go: not installed in this sandbox");
      },
      { prompt: "p", budget: 100_000, change: { files: [{ path: "calc.go", content: "x" }], sources: [] }, sent: new SentSources() },
    );
    expect(result).toMatchObject({ repairs: 0, verification: [] });
    expect(model.sent).toEqual([]);
    expect(ctx.warnings).toEqual(["unverified: `go test ./...` needs go: not installed in this sandbox"]);
  });
});
