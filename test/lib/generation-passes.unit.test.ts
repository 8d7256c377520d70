import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { AssembleResult, ContextPiece } from "../../src/lib/assembly/assemble";
import { AppError } from "../../src/lib/errors";
import type { Completion } from "../../src/lib/model/anthropic-adapter";
import { askSourced } from "../../src/lib/model/assert-sources";
import { changeClaims, claimProblems, planClaims, SentSources, unknownCitations } from "../../src/lib/model/citations";
import { fitPrompt, type PassContext } from "../../src/lib/model/fit-prompt";
import type { Assembler, GenerationEvent, Model } from "../../src/lib/model/generation-types";
import { askJson, parseJsonAnswer } from "../../src/lib/model/json-answer";
import { CHANGE_FORMAT, crossCheckInstruction, expandInstruction, failingOutput, PLAN_FORMAT, planInstruction, planQuery } from "../../src/lib/model/prompts";
import { Plan, ProposedChange } from "../../src/lib/model/schemas";
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
      value: { summary: "s", steps: [{ description: "d", files: [], sources: [] }] },
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
  const plan = { summary: "add mul", steps: [{ description: "add it", files: ["calc.js"], sources: [] }] };

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
  it("repairs a failing change until it passes, with the failing output in the repair prompt, and checks the repair's claims", async () => {
    const repaired = { files: [{ path: "calc.js", content: "fixed" }], sources: [{ claim: "c", chunkIds: ["x"] }] };
    // The repair cites a chunk that was not sent; asked once for sources, it answers the same.
    const model = fakeModel(1, [JSON.stringify(repaired), JSON.stringify(repaired)]);
    const ctx = passContext(model, async () => assembled(100, [piece("k", "calc.js", 100)]));
    const statuses: CheckedStatus[] = ["failed", "passed"];
    const result = await verifyAndRepair(
      ctx,
      async () => ({
        runId: `run${statuses.length}`,
        status: statuses.shift() ?? "passed",
        results: [{ command: "t", exitCode: 1, stdout: "boom", stderr: "" }] as never,
      }),
      { prompt: "p", budget: 100_000, change: { files: [{ path: "calc.js", content: "broken" }], sources: [] }, sent: new SentSources(), unsupported: [] },
    );
    expect(result.repairs).toBe(1);
    expect(result.verification.map((v) => v.status)).toEqual(["failed", "passed"]);
    expect(result.change).toEqual(repaired);
    expect(ctx.events.map((e) => e.type)).toEqual(["verified", "repair", "context", "call", "sources", "call", "verified"]);
    expect(model.sent[1]?.at(-1)).toContain('- "c": x was not in the prompt');
    expect(result.unsupported).toEqual([{ pass: "repair 1", claim: "c", problem: "x was not in the prompt" }]);
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
      { prompt: "p", budget: 100_000, change: { files: [{ path: "calc.py", content: "x" }], sources: [] }, sent: new SentSources(), unsupported: [] },
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
      { prompt: "p", budget: 100_000, change: { files: [{ path: "calc.go", content: "x" }], sources: [] }, sent: new SentSources(), unsupported: [] },
    );
    expect(result).toMatchObject({ repairs: 0, verification: [] });
    expect(model.sent).toEqual([]);
    expect(ctx.warnings).toEqual(["unverified: `go test ./...` needs go: not installed in this sandbox"]);
  });
});

describe("claimProblems (the assert stage's check)", () => {
  const sent = new SentSources();
  sent.add([{ chunkId: "sent", startLine: 10, endLine: 40 }]);

  it("supports a claim with one citation of a chunk sent and lines inside what was sent", () => {
    expect(claimProblems([{ claim: "ok", citations: ["invented:1-2", "sent:12-30"] }], sent)).toEqual([]);
  });

  it("names why each other claim is unsupported: no source, an unknown id, no line range, lines not sent", () => {
    const claims = [
      { claim: "bare", citations: [] },
      { claim: "unknown", citations: ["invented:1-2"] },
      { claim: "no lines", citations: ["sent"] },
      { claim: "outside", citations: ["sent:35-60"] },
    ];
    expect(claimProblems(claims, sent)).toEqual([
      { claim: "bare", problem: "cites no source" },
      { claim: "unknown", problem: "invented was not in the prompt" },
      { claim: "no lines", problem: "sent is cited without a line range" },
      { claim: "outside", problem: "lines 35-60 of sent were not in the prompt" },
    ]);
  });

  it("counts a change that edits files but explains nothing as one unsupported claim", () => {
    expect(changeClaims({ files: [{ path: "a", content: "" }], sources: [] })).toEqual([{ claim: "(the change as a whole)", citations: [] }]);
    expect(planClaims({ summary: "s", steps: [{ description: "d", files: [], sources: ["sent:10-12"] }] })).toEqual([
      { claim: "d", citations: ["sent:10-12"] },
    ]);
  });
});

describe("askSourced", () => {
  const fit = { context: assembled(10, [piece("k", "calc.js", 10)]), counted: 10, longContext: false };
  const sent = new SentSources();
  sent.add(fit.context.contextPieces);

  it("asks once more when claims lack sources, and takes the sourced answer", async () => {
    const bare = { files: [{ path: "calc.js", content: "x" }], sources: [{ claim: "c", chunkIds: [] }] };
    const sourced = { ...bare, sources: [{ claim: "c", chunkIds: ["k:1-2"] }] };
    const model = fakeModel(1, [JSON.stringify(bare), JSON.stringify(sourced)]);
    const ctx = passContext(model, async () => fit.context);
    const r = await askSourced(ctx, "expand", fit, ProposedChange, 100, { sent, claimsOf: changeClaims });
    expect(r).toEqual({ answer: sourced, unsupported: [] });
    expect(model.sent).toHaveLength(2);
    expect(model.sent[1]?.at(-2)).toBe(JSON.stringify(bare));
    expect(ctx.events.filter((e) => e.type === "sources")).toEqual([{ type: "sources", pass: "expand", unsupported: ["c"] }]);
  });

  it("marks what is still unsupported after the one repair, and keeps the first answer when the repair is not JSON", async () => {
    const bare = { files: [{ path: "calc.js", content: "x" }], sources: [] };
    const model = fakeModel(1, [JSON.stringify(bare), "no json", "still none"]);
    const ctx = passContext(model, async () => fit.context);
    const r = await askSourced(ctx, "expand", fit, ProposedChange, 100, { sent, claimsOf: changeClaims });
    expect(r.answer).toEqual(bare);
    expect(r.unsupported).toEqual([{ pass: "expand", claim: "(the change as a whole)", problem: "cites no source" }]);
    expect(model.sent).toHaveLength(3);
  });
});
