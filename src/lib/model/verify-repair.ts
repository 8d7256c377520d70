/**
 * The verify pass: the change runs in the sandbox; on failure a targeted repair pass gets the failing
 * logs and the changed files (a minimal context), up to MAX_REPAIRS times. A run whose checks collected
 * no test (`no_tests`), or that could not judge the change (a missing toolchain, dependencies that did not
 * install, the org's sandbox quota used up), verified nothing: it is reported
 * as unverified and no repair pass is spent on it.
 */
import { isUnverifiable } from "../sandbox/runs";
import { askSourced, type UnsupportedClaim } from "./assert-sources";
import { changeClaims, type SentSources, unknownCitations } from "./citations";
import { fitPrompt, type PassContext } from "./fit-prompt";
import type { Verification, Verifier } from "./generation-types";
import { budgetFor, CHANGE_MAX_TOKENS, MAX_REPAIRS, PLAN_BUDGET } from "./limits";
import { failingOutput, repairInstruction } from "./prompts";
import { ProposedChange } from "./schemas";

// Characters of failing output that join a repair pass's retrieval query.
const REPAIR_QUERY_CHARS = 2_000;

/** Verifies `change`, repairing it while it fails; unknown citations of repaired changes go to the warnings. */
export async function verifyAndRepair(
  ctx: PassContext,
  verify: Verifier,
  p: { prompt: string; budget: number; change: ProposedChange; sent: SentSources; unsupported: UnsupportedClaim[] },
): Promise<{ change: ProposedChange; verification: Verification[]; repairs: number; unsupported: UnsupportedClaim[] }> {
  const { prompt, budget, sent } = p;
  let change = p.change;
  // The claims check of the change in hand: a repaired change replaces it.
  let unsupported = p.unsupported;
  const verification: Verification[] = [];
  let repairs = 0;
  for (;;) {
    const attempt = repairs;
    let run: Verification;
    try {
      run = await verify({ files: change.files, deletions: [], ...(change.diff ? { diff: change.diff } : {}) }, (event) =>
        ctx.emit({ type: "sandbox", attempt, event }),
      );
    } catch (e) {
      // The sandbox cannot run the project's checks at all: the change stays unverified, no repair can help.
      if (!isUnverifiable(e)) throw e;
      ctx.warnings.push(`unverified: ${e.message}`);
      break;
    }
    verification.push(run);
    ctx.emit({ type: "verified", attempt, runId: run.runId, status: run.status });
    if (run.status === "no_tests") {
      ctx.warnings.push(`unverified: the project's checks ran no test (sandbox run ${run.runId})`);
      break;
    }
    if (run.status === "passed" || repairs >= MAX_REPAIRS) break;
    repairs++;
    const failing = failingOutput(run.results);
    ctx.emit({ type: "repair", attempt: repairs, failing });
    const instruction = repairInstruction(prompt, failing, change);
    const repairFit = await fitPrompt(ctx, {
      pass: `repair ${repairs}`,
      query: `${prompt}\n${failing.slice(-REPAIR_QUERY_CHARS)}`,
      instruction,
      // Minimal context: about 32k tokens of sources on top of the logs and the change.
      budget: budgetFor(instruction, PLAN_BUDGET * 2, budget),
      hotPaths: change.files.map((f) => f.path),
      maxTokens: CHANGE_MAX_TOKENS,
      exclusiveHotPaths: true,
    });
    sent.add(repairFit.context.contextPieces);
    ({ answer: change, unsupported } = await askSourced(ctx, `repair ${repairs}`, repairFit, ProposedChange, CHANGE_MAX_TOKENS, {
      sent,
      claimsOf: changeClaims,
    }));
    ctx.warnings.push(...unknownCitations(change, sent));
  }
  return { change, verification, repairs, unsupported };
}
