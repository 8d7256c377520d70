/** Hono generics for the API: the Worker's bindings and the request-scoped values middleware sets. */
import type { KeyPrincipal } from "../../src/lib/auth";

/**
 * `key` and `orgId` (the key's org) are set on every route behind `requireKey`; `bodyProjectId` by
 * `jsonOf` when the body names a project (the audit trail records it).
 */
export type Vars = { key: KeyPrincipal; orgId: string; requestId: string; bodyProjectId?: string };
export type AppEnv = { Bindings: Env; Variables: Vars };
