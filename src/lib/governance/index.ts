/** Org and project governance: settings and the policy they set for each request. */
export {
  assertMayGenerate,
  assertModelAllowed,
  type ContextLimit,
  decideRerank,
  type Policy,
  policyOf,
  type RequestedBudget,
  readPolicy,
  resolveBudget,
} from "./policy";
export {
  API_MAX_CONTEXT_TOKENS,
  ContextLimit as ContextLimitSetting,
  DEFAULT_SUMMARY_BUDGET_USD,
  GENERATION_DEFAULTS,
  type GenerationDefault,
  GovernancePatch,
  type GovernanceSettings,
  governanceRead,
  isProjectInComplianceMode,
  MIN_CONTEXT_LIMIT,
  MODEL_SUMMARY_SETTINGS,
  readGovernance,
  updateGovernance,
} from "./settings";
