/** Hono generics for the API: the Worker's bindings and the request-scoped values middleware sets. */
export type Vars = { orgId: string; isBootstrap: boolean; requestId: string };
export type AppEnv = { Bindings: Env; Variables: Vars };
