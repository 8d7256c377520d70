/**
 * The path rules every pushed path passes before anything is fetched: the archive's safe-path rule,
 * no control characters, at most 4096 bytes. A bad path is listed as skipped, never fetched, and never
 * refuses the rest of the push.
 */
import { DEFAULT_ARCHIVE_LIMITS, isControl, safePath, withoutControls } from "../archive/limits";
import type { SkipReason } from "../storage/schema";

// PATH_MAX on Linux, as for uploads; git hosts accept longer paths, but no checkout could hold one.
export const MAX_PATH_BYTES = DEFAULT_ARCHIVE_LIMITS.maxPathBytes;
// A refused path is listed with at most this many characters, so a sample of them stays small.
const SHOWN_PATH_CHARS = 512;

export type RefusedPath = { path: string; reason: Extract<SkipReason, "invalid path" | "path too long">; detail: string };

/** The path as given when it passes the rules, or how it is listed when refused. */
export function checkPushPath(raw: string): { ok: true; path: string } | { ok: false; refused: RefusedPath } {
  const refuse = (reason: RefusedPath["reason"], detail: string) => ({ ok: false as const, refused: { path: displayPath(raw), reason, detail } });
  if ([...raw].some(isControl)) return refuse("invalid path", "the path contains a control character");
  let normal: string;
  try {
    normal = safePath(raw);
  } catch {
    return refuse("invalid path", "the path is absolute or escapes the repository root");
  }
  // A git host never sends "./a", "a//b" or "a\b" for a tracked file; storing such a path under another name would misfile it.
  if (normal !== raw) return refuse("invalid path", "the path is not in canonical form");
  if (new TextEncoder().encode(raw).byteLength > MAX_PATH_BYTES) return refuse("path too long", `longer than ${MAX_PATH_BYTES} bytes`);
  return { ok: true, path: raw };
}

/** A path as a job lists it: control characters replaced by U+FFFD, long paths cut. */
export function displayPath(raw: string): string {
  const clean = withoutControls(raw);
  return clean.length > SHOWN_PATH_CHARS ? `${clean.slice(0, SHOWN_PATH_CHARS)}…` : clean;
}
