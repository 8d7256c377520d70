// Secrets are not in wrangler.toml, so `wrangler types` cannot see them; declared here.
declare namespace Cloudflare {
  interface Env {
    /** The operator's bootstrap token: it creates orgs and nothing else (`.dev.vars` locally, a secret in production). */
    WINKY_API_TOKEN?: string;
    /** The key that seals credentials orgs give us (32 random bytes, base64; src/lib/crypto/seal.ts). */
    WINKY_SEAL_KEY?: string;
    /** The local sandbox runner (`npm run dev` starts it and writes both to .dev.vars). */
    SANDBOX_RUNNER_URL?: string;
    SANDBOX_RUNNER_SECRET?: string;
    /** The package registries a container's install phase may reach (JSON as the runner's; default the public ones). */
    SANDBOX_REGISTRIES?: string;
    /** The model API: key (a secret), base URL (tests point it at a local server) and model id. */
    ANTHROPIC_API_KEY?: string;
    ANTHROPIC_BASE_URL?: string;
    MODEL?: string;
    /** The small model for model-written summaries and reranking (default claude-haiku-4-5). */
    SMALL_MODEL?: string;
    /** "off": no model-written summaries unless an org turns them on; anything else (or unset): on when a key is configured. */
    MODEL_SUMMARIES?: string;
    /** Seconds the directory-summary pass waits for a project's file summaries to go quiet (default 30; tests 0). */
    SUMMARY_DIR_DELAY_S?: string;
    /** Reading metrics back from Analytics Engine in production (its SQL API): the account id and a token with "Account Analytics: Read". */
    CF_ACCOUNT_ID?: string;
    CF_ANALYTICS_TOKEN?: string;
    /** "on" only in the test configuration: fault injection in the ingestion path (src/lib/resilience/faults.ts). */
    WINKY_FAULTS?: string;
    /** Ranking features to switch off, comma-separated, for measuring each one (`npm run eval -- --off …`); unset when deployed. */
    WINKY_RANKING_OFF?: string;
    /** "on" only in the test configuration: every response is checked against its route's declared schema (workers/api/openapi.ts). */
    WINKY_VALIDATE_RESPONSES?: string;
  }
}
