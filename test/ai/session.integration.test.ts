import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SESSION_IDLE_MS } from "../../durable-objects/session";
import { orgGate } from "../../src/lib/model/org-gate";
import { ADMIN, api, ingestTree, json, newOrg } from "../support/api";
import type { TreeFile } from "../support/archives";

const files: TreeFile[] = [
  { path: "package.json", content: JSON.stringify({ name: "calc", scripts: { test: "node test.js" } }) },
  { path: "calc.js", content: "exports.add = (a, b) => a + b;\n" },
  {
    path: "test.js",
    content: "const assert = require('assert');\nconst { add } = require('./calc');\nassert.strictEqual(add(2, 3), 5);\nconsole.log('ok');\n",
  },
  // One chunk of about 4,000 tokens: whole at large budgets, an excerpt or a prefix at small ones.
  {
    path: "lib/big.js",
    content: Array.from({ length: 200 }, (_, j) => `exports.bigHelper${j} = (value) => value * ${j} + ${j * 7}; // big arithmetic helper ${j}\n`).join(""),
  },
  ...Array.from({ length: 12 }, (_, i) => ({
    path: `lib/util${i}.js`,
    content: Array.from({ length: 30 }, (_, j) => `exports.helper${i}_${j} = (x) => x * ${j} + ${i}; // arithmetic helper\n`).join(""),
  })),
];

type Info = {
  sessionId: string;
  projectId: string;
  meter: { calls: number; inputTokens: number; outputTokens: number; costUsd: number };
  hotWindow: { entries: number; bytes: number };
  hotPaths: string[];
  messages: { role: string; content: string }[];
  lastEventSeq: number;
};
type Assembled = { contextText: string; tokenTotal: number; contextPieces: { chunkId: string }[]; hotWindow: { reused: number; added: number } };
type Event = { seq: number; type: string; data: Record<string, unknown> };

const post = (path: string, body: unknown, token?: string) =>
  api(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" }, ...(token ? { token } : {}) });
const reply = (match: string, text: string) => fetch(`${env.ANTHROPIC_BASE_URL}/__reply?match=${encodeURIComponent(match)}`, { method: "PUT", body: text });

async function newSession(): Promise<{ projectId: string; sessionId: string }> {
  const projectId = await ingestTree(files);
  const info = await json<Info>(await post("/api/sessions", { projectId }), 201);
  return { projectId, sessionId: info.sessionId };
}

/** A WebSocket on the session's stream; collects every frame. */
async function connect(sessionId: string, query = "", init: { protocols?: string } = {}) {
  const headers: Record<string, string> = { upgrade: "websocket" };
  if (init.protocols) headers["sec-websocket-protocol"] = init.protocols;
  else headers.authorization = `Bearer ${ADMIN}`;
  const res = await SELF.fetch(`https://winky.test/api/sessions/${sessionId}/ws${query}`, { headers });
  const ws = res.webSocket;
  if (!ws) return { res, frames: [] as Event[], ws: undefined };
  ws.accept();
  const frames: Event[] = [];
  ws.addEventListener("message", (m) => frames.push(JSON.parse(String(m.data)) as Event));
  return { res, frames, ws };
}

async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("sessions", () => {
  it("keeps a hot window: a follow-up assembly reuses held blocks, and the text is the same as without one", async () => {
    const { projectId, sessionId } = await newSession();
    const ask = { prompt: "change the arithmetic helper helper3_4 in lib/util3.js", budget: 8000, includeText: true };
    const first = await json<Assembled>(await post(`/api/sessions/${sessionId}/assemble`, ask), 200);
    expect(first.hotWindow.reused).toBe(0);
    expect(first.hotWindow.added).toBeGreaterThan(0);
    const direct = await json<Assembled>(await post("/api/context/assemble", { projectId, ...ask }), 200);
    expect(first.contextText).toBe(direct.contextText);

    const followUp = { ...ask, prompt: "and make helper3_5 in lib/util3.js check its argument" };
    const second = await json<Assembled>(await post(`/api/sessions/${sessionId}/assemble`, followUp), 200);
    expect(second.hotWindow.reused).toBeGreaterThan(0);
    // The blocks the window held came back from the window, and the prompt is still exact.
    const again = await json<Assembled>(await post("/api/context/assemble", { projectId, ...followUp }), 200);
    expect(second.contextText).toBe(again.contextText);
    expect(second.tokenTotal).toBe(again.tokenTotal);

    let info = await json<Info>(await api(`/api/sessions/${sessionId}`), 200);
    expect(info.hotWindow.entries).toBe(first.hotWindow.added + second.hotWindow.added);

    // Budgets that cut chunks into excerpts and trailing prefixes: a held whole chunk stands in for
    // its text only where the whole chunk is used; every prompt stays identical to the one built cold.
    for (const [i, budget] of [100_000, 12_000, 6500, 5000, 4096, 30_000].entries()) {
      const req = { prompt: `bigHelper${40 * i + 7} in lib/big.js, helper${i}_${i + 3} and helper3_${i} in lib/util${i}.js`, budget, includeText: true };
      const warm = await json<Assembled>(await post(`/api/sessions/${sessionId}/assemble`, req), 200);
      const cold = await json<Assembled>(await post("/api/context/assemble", { projectId, ...req }), 200);
      expect(warm.contextText).toBe(cold.contextText);
    }
    info = await json<Info>(await api(`/api/sessions/${sessionId}`), 200);
    expect(info.hotWindow.bytes).toBeGreaterThan(0);
    expect(info.lastEventSeq).toBe(8);
  });

  it("refuses other orgs, unknown sessions and malformed ids", async () => {
    const { sessionId } = await newSession();
    const org = await newOrg("other");
    expect((await json<{ error: { code: string } }>(await api(`/api/sessions/${sessionId}`, { token: org.apiKey }), 404)).error.code).toBe("session_not_found");
    expect((await json<{ error: { code: string } }>(await api("/api/sessions/ses_doesnotexist0000"), 404)).error.code).toBe("session_not_found");
    expect((await json<{ error: { code: string } }>(await api("/api/sessions/nope"), 400)).error.code).toBe("invalid_request");
    expect((await connect(sessionId, "", { protocols: `winky, bearer.${org.apiKey}` })).res.status).toBe(404);
    expect((await connect(sessionId, "", { protocols: "winky" })).res.status).toBe(401);
    expect((await json<{ error: { code: string } }>(await post("/api/sessions", { projectId: "prj_missing" }), 404)).error.code).toBe("not_found");
  });

  it("streams a generation over the WebSocket; a client that disconnects gets what it missed on reconnect", async () => {
    const { projectId, sessionId } = await newSession();
    const marker = `m-${crypto.randomUUID()}`;
    await reply(`${marker}\n\nAnswer with JSON only`, JSON.stringify({ summary: "add mul", steps: [{ description: "add mul", files: ["calc.js"] }] }));
    await reply(
      `${marker}\n\nPlan:`,
      JSON.stringify({ files: [{ path: "calc.js", content: "exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b;\n" }], sources: [] }),
    );
    // A browser-style client: the token rides in the subprotocol, and the server selects "winky".
    const first = await connect(sessionId, "", { protocols: `winky, bearer.${ADMIN}` });
    expect(first.res.status).toBe(101);
    expect(first.res.headers.get("sec-websocket-protocol")).toBe("winky");
    const run = post("/api/ai/generate-prototype", { projectId, sessionId, prompt: `Add a multiply helper ${marker}` });
    // Disconnect as soon as the plan has been streamed.
    await until(() => first.frames.some((f) => f.type === "plan"), "the plan event");
    first.ws?.close(1000, "going away");
    const seen = first.frames.filter((f) => typeof f.seq === "number");
    const result = await json<{ id: string; sessionId: string; verification: { status: string }[] }>(await run, 200);
    expect(result.sessionId).toBe(sessionId);

    const lastSeen = seen.at(-1)?.seq ?? 0;
    const second = await connect(sessionId, `?after=${lastSeen}`);
    await until(() => second.frames.some((f) => f.type === "replayed"), "the replay");
    const missed = second.frames.filter((f) => typeof f.seq === "number");
    const all = [...seen, ...missed];
    // Nothing lost, nothing twice, in order.
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: all.length }, (_, i) => (all[0]?.seq ?? 1) + i));
    const types = all.map((e) => e.type);
    for (const t of ["started", "context", "plan", "tokens", "call", "sandbox", "verified", "result"]) expect(types).toContain(t);
    expect(types.indexOf("plan")).toBeLessThan(types.indexOf("verified"));
    expect(types.at(-1)).toBe("result");
    const tokens = all.filter((e) => e.type === "tokens" && e.data.pass === "expand").map((e) => String(e.data.text));
    expect(tokens.join("")).toContain("exports.mul");
    expect(missed.some((e) => e.type === "sandbox")).toBe(true);

    // Resume on an open socket works too, and live events keep coming after it.
    second.ws?.send(JSON.stringify({ type: "resume", after: 0 }));
    await until(() => second.frames.filter((f) => f.type === "replayed").length === 2, "the second replay");
    second.ws?.close(1000, "done");

    const info = await json<Info>(await api(`/api/sessions/${sessionId}`), 200);
    // Plan and expand, each asked once more for sources (the scripted answers cite none) and, the echoed
    // follow-up not being JSON, once more for valid JSON.
    expect(info.meter.calls).toBe(6);
    expect(info.meter.inputTokens).toBeGreaterThan(0);
    expect(info.meter.costUsd).toBeGreaterThan(0);
    expect(info.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(info.hotPaths).toContain("calc.js");
    expect(info.hotWindow.entries).toBeGreaterThan(0);
    const row = await env.DB.prepare("SELECT result_meta FROM context_sessions WHERE session_id = ?").bind(result.id).first<{ result_meta: string }>();
    expect(JSON.parse(row?.result_meta ?? "{}")).toMatchObject({ sessionId, usage: { costUsd: expect.any(Number) } });
  });

  it("keeps a large result's diffs out of the event log, and says so", async () => {
    const { projectId, sessionId } = await newSession();
    const marker = `m-${crypto.randomUUID()}`;
    const big = `exports.table = ${JSON.stringify("x".repeat(300_000))};\n`;
    await reply(`${marker}\n\nAnswer with JSON only`, JSON.stringify({ summary: "add a table", steps: [{ description: "add it", files: ["table.js"] }] }));
    await reply(`${marker}\n\nPlan:`, JSON.stringify({ files: [{ path: "table.js", content: big }], sources: [] }));
    const res = await json<{ diffs: { path: string; content: string }[] }>(
      await post("/api/ai/generate-prototype", { projectId, sessionId, prompt: `Add a lookup table ${marker}`, verify: false }),
      200,
    );
    expect(res.diffs[0]?.content).toBe(big);
    const ws = await connect(sessionId);
    await until(() => ws.frames.some((f) => f.type === "replayed"), "the replay");
    ws.ws?.close(1000, "done");
    const result = ws.frames.find((f) => f.type === "result");
    expect(result?.data).toMatchObject({ diffsOmitted: true, diffs: [{ path: "table.js", chars: big.length }], plan: { summary: "add a table" } });
  });

  it("meters the calls of a run that fails and records it; a long prompt does not crowd later prompts", async () => {
    const { projectId, sessionId } = await newSession();
    const failing = `m-${crypto.randomUUID()}`;
    await reply(failing, "not JSON");
    await reply(failing, "still not JSON");
    const err = await json<{ error: { code: string } }>(await post("/api/ai/generate-prototype", { projectId, sessionId, prompt: `Plan it ${failing}` }), 502);
    expect(err.error.code).toBe("model_invalid_output");
    let info = await json<Info>(await api(`/api/sessions/${sessionId}`), 200);
    expect(info.meter.calls).toBe(2);
    expect(info.meter.costUsd).toBeGreaterThan(0);
    const failed = await env.DB.prepare("SELECT result_meta FROM context_sessions WHERE project_id = ? AND result_meta LIKE '%\"failed\"%'")
      .bind(projectId)
      .first<{ result_meta: string }>();
    expect(JSON.parse(failed?.result_meta ?? "{}")).toMatchObject({ sessionId, status: "failed", error: { code: "model_invalid_output" }, calls: [{}, {}] });

    const marker = `m-${crypto.randomUUID()}`;
    const long = `${"Keep every helper pure and document it. ".repeat(800)}${marker}`;
    await reply(`${marker}\n\nAnswer with JSON only`, JSON.stringify({ summary: "document helpers", steps: [{ description: "docs", files: ["calc.js"] }] }));
    await reply(`${marker}\n\nPlan:`, JSON.stringify({ files: [{ path: "calc.js", content: "exports.add = (a, b) => a + b;\n" }], sources: [] }));
    await json(await post("/api/ai/generate-prototype", { projectId, sessionId, prompt: long, verify: false }), 200);
    info = await json<Info>(await api(`/api/sessions/${sessionId}`), 200);
    expect(info.messages[0]?.content.length).toBeLessThan(20_100);
    const dry = await json<{ prompts: { plan: string } }>(
      await post("/api/ai/generate-prototype", { projectId, sessionId, prompt: "Now add a test for add", dryRun: true }),
      200,
    );
    const conversation = dry.prompts.plan.slice(dry.prompts.plan.indexOf("---USER_CONVERSATION---"), dry.prompts.plan.indexOf("---USER_INSTRUCTION---"));
    expect(conversation).toContain("[…]");
    expect(conversation.length).toBeLessThan(16_000 * 0.1 * 3 + 200);
  });

  it("deletes a session idle for a week, and opens one stored before its activity column existed", async () => {
    const { projectId, sessionId } = await newSession();
    const stub = env.SESSION.getByName(sessionId);
    expect(await runDurableObjectAlarm(stub)).toBe(true); // not idle: expires stale blocks and re-arms
    expect((await api(`/api/sessions/${sessionId}`)).status).toBe(200);
    await runInDurableObject(stub, (_i, state) => void state.storage.sql.exec("UPDATE session SET active_at = ?", Date.now() - SESSION_IDLE_MS - 1));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await json<{ error: { code: string } }>(await api(`/api/sessions/${sessionId}`), 404)).error.code).toBe("session_not_found");
    expect(await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("SELECT name FROM sqlite_master").toArray())).toEqual([]);

    const old = `ses_${crypto.randomUUID().replaceAll("-", "")}`;
    await runInDurableObject(env.SESSION.getByName(old), (_i, state) => {
      state.storage.sql.exec("CREATE TABLE session (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL, meter TEXT NOT NULL)");
      state.storage.sql.exec("CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, role TEXT NOT NULL, content TEXT NOT NULL, at TEXT NOT NULL)");
      state.storage.sql.exec("CREATE TABLE hot_paths (path TEXT PRIMARY KEY, used_at INTEGER NOT NULL)");
      state.storage.sql.exec(
        "INSERT INTO session (id, data, meter) VALUES (1, ?, ?)",
        JSON.stringify({ sessionId: old, projectId, orgId: "org_test", createdAt: new Date().toISOString() }),
        JSON.stringify({ calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 }),
      );
    });
    const assembled = await json<Assembled>(await post(`/api/sessions/${old}/assemble`, { prompt: "the add helper in calc.js", budget: 4096 }), 200);
    expect(assembled.hotWindow.added).toBeGreaterThan(0);
  });

  it("caps an org's concurrent model calls", async () => {
    const org = `org_${crypto.randomUUID()}`;
    const gate = orgGate(env.ORG_MODEL_GATE, org, 1, 300);
    let release: () => void = () => undefined;
    const running = gate(() => new Promise<string>((r) => (release = () => r("first"))));
    await new Promise((r) => setTimeout(r, 50));
    const refused = await gate(async () => "second").catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 429, code: "org_concurrency_limit" });
    // Another org is not held back by this one.
    expect(await orgGate(env.ORG_MODEL_GATE, `org_${crypto.randomUUID()}`, 1, 300)(async () => "other org")).toBe("other org");
    release();
    expect(await running).toBe("first");
    expect(await gate(async () => "after")).toBe("after");
  });
});
