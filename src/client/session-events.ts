/** A session event as one line for people (plan, pass, tokens, sandbox, result, error): the CLI and the console show the same words. */
import type { SessionEvent } from "./responses";

type Data = Record<string, unknown>;

export function describeEvent(e: SessionEvent): string {
  const d = (e.data ?? {}) as Data;
  const sandbox = (d.event ?? {}) as Data;
  switch (e.type) {
    case "started":
      return `#${e.seq} started: ${String(d.prompt ?? "")}`;
    case "context":
      return `#${e.seq} context for ${String(d.pass)}: ${String(d.tokenTotal)} / ${String(d.tokenBudget)} tokens`;
    case "plan": {
      const plan = (d.plan ?? {}) as { summary?: string; steps?: { description: string }[] };
      return [`#${e.seq} plan: ${plan.summary ?? ""}`, ...(plan.steps ?? []).map((s, i) => `    ${i + 1}. ${s.description}`)].join("\n");
    }
    case "tokens":
      return `#${e.seq} ${String(d.pass ?? "")} > ${String(d.text ?? "")
        .replace(/\s+/g, " ")
        .slice(0, 200)}`;
    case "call":
      return `#${e.seq} call ${String(d.pass)}: ${String(d.inputTokens)} in, ${String(d.outputTokens)} out, $${String(d.costUsd)}`;
    case "sandbox":
      return `#${e.seq} sandbox attempt ${String(d.attempt)}: ${String(sandbox.type ?? "")} ${String(sandbox.command ?? sandbox.text ?? "")}`.trimEnd();
    case "verified":
      return `#${e.seq} verified attempt ${String(d.attempt)}: ${String(d.status)} (run ${String(d.runId)})`;
    case "result":
      return `#${e.seq} result`;
    case "error": {
      const err = (d.error ?? {}) as Data;
      return `#${e.seq} error ${String(err.code)}: ${String(err.message)}`;
    }
    default:
      return `#${e.seq} ${e.type}`;
  }
}

/** The events that end a run. */
export const isRunEnd = (e: SessionEvent): boolean => e.type === "result" || e.type === "error";
