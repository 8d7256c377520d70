/**
 * What an org's and a project's governance settings allow one request: the context budget (refused above
 * the limit, capped for "max"), the model, and whether generation may run (compliance mode, project opt-in).
 */
import { AppError } from "../errors";
import type { ProjectRow } from "../projects/projects";
import type { Db } from "../storage";
import { API_MAX_CONTEXT_TOKENS, type GovernanceSettings, readGovernance } from "./settings";

/** The limit in force and which setting set it, so a refusal can name it. */
export type ContextLimit = { tokens: number; source: "org" | "project" | "api" };

export type Policy = {
  contextLimit: ContextLimit;
  allowedModels: string[] | null;
  complianceMode: boolean;
  /** Whether the project allows generation (undefined: no project in question). */
  generationEnabled: boolean | undefined;
  /** Whether assemblies rerank unless a request says otherwise. */
  rerank: boolean;
};

type ProjectLimits = Pick<ProjectRow, "maxContextTokens" | "generationEnabled">;

/** The policy of the org's settings and, when given, the project's; the lower limit wins. */
export function policyOf(org: GovernanceSettings, project?: ProjectLimits): Policy {
  const limits: ContextLimit[] = [
    { tokens: API_MAX_CONTEXT_TOKENS, source: "api" },
    ...(org.maxContextTokens !== null ? [{ tokens: org.maxContextTokens, source: "org" as const }] : []),
    ...(project?.maxContextTokens != null ? [{ tokens: project.maxContextTokens, source: "project" as const }] : []),
  ];
  const contextLimit = limits.reduce((a, b) => (b.tokens <= a.tokens ? b : a));
  return {
    contextLimit,
    allowedModels: org.allowedModels,
    complianceMode: org.complianceMode,
    generationEnabled: project ? project.generationEnabled === 1 : undefined,
    rerank: org.rerank,
  };
}

export async function readPolicy(db: Db, orgId: string, project?: ProjectLimits): Promise<Policy> {
  return policyOf(await readGovernance(db, orgId), project);
}

/** A budget as requests give it: tokens, "max" (the limit in force), or nothing (the route's default). */
export type RequestedBudget = number | "max" | undefined;

/**
 * The budget a request runs with: "max" is the limit, no budget the default capped to the limit, and a
 * number above the limit a 400 `budget_over_limit` naming it.
 */
export function resolveBudget(requested: RequestedBudget, fallback: number, policy: Pick<Policy, "contextLimit">, field = "budget"): number {
  const { tokens, source } = policy.contextLimit;
  if (requested === "max") return tokens;
  if (requested === undefined) return Math.min(fallback, tokens);
  if (requested > tokens) {
    const setting = source === "api" ? "the API's maximum" : `the ${source}'s maxContextTokens`;
    throw new AppError(400, "budget_over_limit", `${field} ${requested} is over ${setting} of ${tokens} tokens; ask for ${tokens} or less, or "max"`, [
      { path: field, message: `at most ${tokens} (${source} limit)` },
    ]);
  }
  return requested;
}

/** Refuses a model the org does not allow (400 `model_not_allowed`). */
export function assertModelAllowed(model: string, policy: Pick<Policy, "allowedModels">): void {
  if (policy.allowedModels && !policy.allowedModels.includes(model)) {
    throw new AppError(400, "model_not_allowed", `model "${model}" is not one the org allows (${policy.allowedModels.join(", ")})`);
  }
}

/** Refuses generation in compliance mode (403 `compliance_mode`) or for a project that has not opted in (403 `generation_disabled`). */
export function assertMayGenerate(policy: Pick<Policy, "complianceMode" | "generationEnabled">): void {
  if (policy.complianceMode) throw new AppError(403, "compliance_mode", "the org is in compliance mode: no request is sent to an external model");
  if (policy.generationEnabled === false)
    throw new AppError(403, "generation_disabled", "generation is not enabled for this project (PATCH it with generationEnabled: true)");
}

/**
 * Whether an assembly reranks with the small model: the request's `rerank`, else the org's setting. A
 * request that asks for it explicitly is refused what policy forbids (403 `compliance_mode`, 400
 * `model_not_allowed`): silently not doing what was asked would hide it. The org's default gives way
 * instead, and says why (`skipped`).
 */
export function decideRerank(
  requested: boolean | undefined,
  policy: Pick<Policy, "complianceMode" | "allowedModels" | "rerank">,
  model: string,
): { run: boolean; skipped?: string } {
  if (!(requested ?? policy.rerank)) return { run: false };
  const explicit = requested === true;
  if (policy.complianceMode) {
    if (explicit) throw new AppError(403, "compliance_mode", "the org is in compliance mode: a rerank would send the prompt to an external model");
    return { run: false, skipped: "compliance mode: nothing is sent to an external model" };
  }
  if (policy.allowedModels && !policy.allowedModels.includes(model)) {
    if (explicit) assertModelAllowed(model, policy);
    return { run: false, skipped: `the org does not allow ${model}` };
  }
  return { run: true };
}
