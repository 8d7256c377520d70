/**
 * What ingestion does with one archive entry: decoded text, binary metadata, a recorded link, or a skip
 * with its reason. One odd entry never sinks an upload; only structural attacks (the archive readers'
 * errors) refuse one whole.
 */
import type { ArchiveEntry } from "../archive";
import { decodeBytes } from "../chunker";
import { sha256Hex } from "../crypto/hash";
import type { SkipReason } from "../storage";
import type { StagedFile } from "./messages";

export type SkippedEntry = { path: string; reason: SkipReason; detail?: string | undefined };

/** The staged form of an entry; text carries its decoded content. */
export async function stageEntry(entry: ArchiveEntry, maxFileBytes: number): Promise<StagedFile> {
  if (entry.kind === "symlink") {
    const sha256 = await sha256Hex(entry.target);
    const size = new TextEncoder().encode(entry.target).byteLength;
    if (!linkStaysInside(entry.path, entry.target)) {
      return {
        path: entry.path,
        size,
        sha256,
        status: "skipped",
        skipReason: "symlink",
        linkTarget: entry.target,
        skipDetail: `target "${entry.target}" leaves the project root`,
      };
    }
    return { path: entry.path, size, sha256, status: "link", linkTarget: entry.target };
  }
  if (entry.kind === "skipped")
    return { path: entry.path, size: entry.size, sha256: "", status: "skipped", skipReason: entry.reason, skipDetail: entry.detail };
  if (entry.bytes === undefined) {
    return {
      path: entry.path,
      size: entry.size,
      sha256: "",
      status: "skipped",
      skipReason: "too large",
      skipDetail: `larger than the ${maxFileBytes}-byte file limit (${entry.size} bytes)`,
    };
  }
  const sha256 = await sha256Hex(entry.bytes);
  const decoded = decodeBytes(entry.path, entry.bytes);
  if (decoded.kind === "binary") return { path: entry.path, size: entry.size, sha256, status: "binary" };
  return {
    path: entry.path,
    size: entry.size,
    sha256,
    status: "text",
    text: decoded.text,
    ...(decoded.encoding === "utf-8" ? {} : { encoding: decoded.encoding }),
  };
}

/** Whether a link at `path` pointing at `target` resolves (lexically) to a place inside the root. */
export function linkStaysInside(path: string, target: string): boolean {
  if (target === "" || target.startsWith("/") || /^[a-zA-Z]:/.test(target) || target.includes("\0")) return false;
  const parts = path.split("/").slice(0, -1);
  for (const seg of target.replace(/\\/g, "/").split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (parts.length === 0) return false;
      parts.pop();
    } else parts.push(seg);
  }
  return parts.length > 0;
}

/** The key an outcome is counted under in a job: `text`, `decoded`, `binary`, `link` or `skipped:<reason>`. */
export function outcomeKey(f: { status: StagedFile["status"]; encoding?: string | undefined; skipReason?: SkipReason | undefined }): string {
  if (f.status === "skipped") return `skipped:${f.skipReason ?? "unknown"}`;
  if (f.status === "text" && f.encoding !== undefined) return "decoded";
  return f.status;
}
