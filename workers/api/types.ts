/** Hono generics for the API: the Worker's bindings and the request-scoped values middleware sets. */
import type { KeyPrincipal } from "../../src/lib/auth";

/** `key` and `orgId` (the key's org) are set on every route behind `requireKey`. */
export type Vars = { key: KeyPrincipal; orgId: string; requestId: string };
export type AppEnv = { Bindings: Env; Variables: Vars };
