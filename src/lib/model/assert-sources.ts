/**
 * The assert stage (spec, Validation Pipeline: "require sources for all claims"): a pass's answer whose
 * claims lack a source that was in its prompt is asked once more with that instruction; what is still
 * unsupported is returned for the result to be marked `unsupported_claims`, never silently accepted.
 */
import type { z } from "zod";
import { AppError } from "../errors";
import { askPass } from "./ask-pass";
import { type Claim, type ClaimProblem, claimProblems, type SentSources } from "./citations";
import type { FittedPrompt, PassContext } from "./fit-prompt";
import { sourcesRequest } from "./prompts";

export type UnsupportedClaim = ClaimProblem & { pass: string };
export type ClaimsCheck = { status: "supported" | "unsupported_claims"; unsupported: UnsupportedClaim[] };

export const claimsCheck = (unsupported: UnsupportedClaim[]): ClaimsCheck => ({
  status: unsupported.length > 0 ? "unsupported_claims" : "supported",
  unsupported,
});

/** Asks a pass and checks its claims against `sent` (which must already hold this pass's pieces). */
export async function askSourced<S extends z.ZodType>(
  ctx: PassContext,
  pass: string,
  fit: FittedPrompt,
  schema: S,
  maxTokens: number,
  p: { sent: SentSources; claimsOf: (answer: z.infer<S>) => Claim[] },
): Promise<{ answer: z.infer<S>; unsupported: UnsupportedClaim[] }> {
  const first = await askPass(ctx, pass, fit, schema, maxTokens);
  const problems = claimProblems(p.claimsOf(first), p.sent);
  if (problems.length === 0) return { answer: first, unsupported: [] };
  ctx.emit({ type: "sources", pass, unsupported: problems.map((q) => q.claim) });
  const followUp = [
    { role: "assistant" as const, content: JSON.stringify(first) },
    { role: "user" as const, content: sourcesRequest(problems) },
  ];
  // A repair answer that is not valid JSON leaves the first answer, marked; any other failure is the run's.
  const repaired = await askPass(ctx, `${pass} sources`, fit, schema, maxTokens, followUp).catch((e: unknown) => {
    if (e instanceof AppError && e.code === "model_invalid_output") return undefined;
    throw e;
  });
  const answer = repaired ?? first;
  return { answer, unsupported: claimProblems(p.claimsOf(answer), p.sent).map((q) => ({ ...q, pass })) };
}
