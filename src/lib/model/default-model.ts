/** The model assumed when a request or the configuration names none; its tokenizer counts budgets. */
export const DEFAULT_MODEL = "claude-sonnet-5-5";
