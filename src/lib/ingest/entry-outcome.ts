/**
 * What ingestion does with one archive entry: decoded text, binary metadata, a recorded link, or a skip
 * with its reason. One odd entry never sinks an upload; only structural attacks (the archive readers'
 * errors) refuse one whole.
 */
import type { ArchiveEntry } from "../archive";
import { decodeBytes } from "../chunker";
import { sha256Hex } from "../crypto/hash";
import { MAX_BLOB_BYTES, type SkipReason } from "../storage";
import type { StagedFile } from "./messages";

export type SkippedEntry = { path: string; reason: SkipReason; detail?: string | undefined };

/** The staged form of an entry (text carries its decoded content) and, for a binary file whose bytes are kept, the bytes. */
export type StagedEntry = { file: Omit<StagedFile, "bytes">; blob: Uint8Array | undefined };

// Bytes of a large file's start that say whether it is binary, without decoding the whole of it.
const SNIFF_BYTES = 8000;

/**
 * How many bytes of one entry an archive reader keeps: enough for a text file of the project's limit and for a
 * binary file whose bytes are kept (`MAX_BLOB_BYTES`). Each limit is applied to its kind in `stageEntry`.
 */
export const entryReadLimit = (maxFileBytes: number): number => Math.max(maxFileBytes, MAX_BLOB_BYTES);

/**
 * The staged form of an entry: `maxFileBytes` caps text, `MAX_BLOB_BYTES` the binary files whose bytes are kept
 * (readers keep `entryReadLimit` bytes of an entry; a larger one arrives without bytes and is skipped as too large).
 */
export async function stageEntry(entry: ArchiveEntry, maxFileBytes: number): Promise<StagedEntry> {
  if (entry.kind === "symlink") {
    const sha256 = await sha256Hex(entry.target);
    const size = new TextEncoder().encode(entry.target).byteLength;
    if (!linkStaysInside(entry.path, entry.target)) {
      return {
        file: {
          path: entry.path,
          size,
          sha256,
          status: "skipped",
          skipReason: "symlink",
          linkTarget: entry.target,
          skipDetail: `target "${entry.target}" leaves the project root`,
        },
        blob: undefined,
      };
    }
    return { file: { path: entry.path, size, sha256, status: "link", linkTarget: entry.target }, blob: undefined };
  }
  if (entry.kind === "skipped")
    return { file: { path: entry.path, size: entry.size, sha256: "", status: "skipped", skipReason: entry.reason, skipDetail: entry.detail }, blob: undefined };
  const executable = (entry.mode & 0o111) !== 0;
  if (entry.bytes === undefined) {
    const why = `larger than the ${MAX_BLOB_BYTES}-byte limit for binary files and the ${maxFileBytes}-byte file limit for text`;
    return { file: tooLarge(entry.path, entry.size, why), blob: undefined };
  }
  const sha256 = await sha256Hex(entry.bytes);
  // A text file past the project's limit is never decoded whole: its start says whether it is text at all.
  const large = entry.bytes.byteLength > maxFileBytes;
  const decoded = decodeBytes(entry.path, large ? entry.bytes.subarray(0, SNIFF_BYTES) : entry.bytes);
  if (decoded.kind === "binary") {
    if (entry.bytes.byteLength > MAX_BLOB_BYTES)
      return { file: tooLarge(entry.path, entry.size, `a binary file larger than the ${MAX_BLOB_BYTES}-byte limit for kept bytes`, sha256), blob: undefined };
    return { file: { path: entry.path, size: entry.size, sha256, status: "binary", executable }, blob: entry.bytes };
  }
  if (large) return { file: tooLarge(entry.path, entry.size, `a text file larger than the ${maxFileBytes}-byte file limit`, sha256), blob: undefined };
  return {
    file: {
      path: entry.path,
      size: entry.size,
      sha256,
      status: "text",
      text: decoded.text,
      executable,
      ...(decoded.encoding === "utf-8" ? {} : { encoding: decoded.encoding }),
    },
    blob: undefined,
  };
}

function tooLarge(path: string, size: number, why: string, sha256 = ""): StagedEntry["file"] {
  return { path, size, sha256, status: "skipped", skipReason: "too large", skipDetail: `${why} (${size} bytes)` };
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
