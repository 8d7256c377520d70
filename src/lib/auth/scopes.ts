/**
 * What an API key may do. `read`: assemble, search, read chunks, files and jobs, sessions without
 * generation; `ingest`: create projects, upload, record conversations and logs; `generate`: model
 * generation and its feedback; `sandbox`: start, replay and delete sandbox runs; `admin`: keys, org
 * settings, project settings and repository links, project deletion. No scope implies another.
 */
import { z } from "zod";

export const SCOPES = ["read", "ingest", "generate", "sandbox", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export const ScopeList = z
  .array(z.enum(SCOPES))
  .min(1)
  .max(SCOPES.length)
  .transform((s) => SCOPES.filter((x) => s.includes(x)));

// Built once, not on every authenticated request.
const StoredScopes = z.array(z.string());

/** Scopes as stored (a JSON array); anything unknown is dropped, so a bad row grants less, never more. */
export function parseScopes(stored: string): Scope[] {
  const parsed = StoredScopes.safeParse(JSON.parse(stored));
  return parsed.success ? SCOPES.filter((s) => parsed.data.includes(s)) : [];
}
