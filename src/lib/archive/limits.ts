/**
 * Our limits policy over whatever reads an archive: structural attacks refuse the whole archive (a path
 * that escapes the root, an absolute path, a bomb, corrupt data, too many entries); everything else about
 * one entry (a link, a special file, an over-long or unprintable path) is that entry's outcome.
 */
import { AppError } from "../errors";

export type ArchiveLimits = {
  /** Total decompressed bytes; past this the archive is treated as a bomb. */
  maxUnpackedBytes: number;
  /** Bytes kept per file; larger files are listed with a skip reason but their content is never read. */
  maxFileBytes: number;
  /** Entries of any kind. */
  maxEntries: number;
  /** Bytes of a path; a longer one (or a segment over 255 bytes) is skipped as "path too long". */
  maxPathBytes: number;
};

// 512 MiB unpacked is ~100M tokens of source, far past any single upload we serve; 200k entries is more
// than the Linux kernel tree; 4,096 bytes is Linux's PATH_MAX and 255 its NAME_MAX.
export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxUnpackedBytes: 512 * 1024 * 1024,
  maxFileBytes: 1024 * 1024,
  maxEntries: 200_000,
  maxPathBytes: 4096,
};
const MAX_SEGMENT_BYTES = 255;

export type SkippedEntryReason = "hardlink" | "special file" | "path too long" | "invalid path";

export type ArchiveEntry =
  /** A regular file; `bytes` is undefined when it is larger than maxFileBytes (its content was skipped). */
  | { kind: "file"; path: string; size: number; mode: number; bytes: Uint8Array | undefined }
  /** A symbolic link, with its target exactly as stored (never resolved or followed). */
  | { kind: "symlink"; path: string; target: string }
  | { kind: "skipped"; path: string; size: number; reason: SkippedEntryReason; detail: string };

/** Random access to an archive's bytes (a zip's directory is at its end). */
export type RandomAccessFile = { size: number; read(offset: number, length: number): Promise<Uint8Array> };

export type ArchiveSource = { format: "tar" | "tar.gz"; stream: ReadableStream<Uint8Array> } | { format: "zip"; file: RandomAccessFile };

export const corrupt = (detail: string): AppError => new AppError(400, "corrupt_archive", `the archive is corrupt or truncated: ${detail}`);

export const tooLarge = (limits: ArchiveLimits): AppError =>
  new AppError(413, "archive_too_large", `the archive unpacks to more than ${limits.maxUnpackedBytes} bytes`);

export const tooManyEntries = (limits: ArchiveLimits): AppError =>
  new AppError(413, "too_many_entries", `the archive has more than ${limits.maxEntries} entries`);

/** A safe relative path, or an error naming the entry that is not one. */
export function safePath(raw: string): string {
  const unified = raw.replace(/\\/g, "/");
  if (unified.startsWith("/") || /^[a-zA-Z]:/.test(unified) || unified.includes("\0")) {
    throw new AppError(400, "unsafe_path", `archive entry "${raw}" has an absolute path`);
  }
  const parts: string[] = [];
  for (const seg of unified.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") throw new AppError(400, "unsafe_path", `archive entry "${raw}" escapes the project root`);
    parts.push(seg);
  }
  return parts.join("/");
}

/** C0 controls and DEL: a path with them cannot be shown or stored safely (a newline forges prompt lines). */
export const isControl = (ch: string): boolean => {
  const code = ch.charCodeAt(0);
  return code <= 0x1f || code === 0x7f;
};

/** The text with every control character replaced by U+FFFD, for showing a refused path. */
export const withoutControls = (raw: string): string => [...raw].map((ch) => (isControl(ch) ? "\ufffd" : ch)).join("");

const ENCODER = new TextEncoder();

/**
 * The entry's checked path: `{ path }` when it can be indexed, `{ skipped }` when only the entry is at
 * fault (control characters, too long). Throws for a structural attack (absolute or escaping path).
 */
export function checkEntryPath(raw: string, limits: ArchiveLimits): { path: string } | { skipped: ArchiveEntry & { kind: "skipped" } } {
  const path = safePath(withoutControls(raw));
  if ([...raw].some(isControl)) return { skipped: { kind: "skipped", path, size: 0, reason: "invalid path", detail: "the path contains control characters" } };
  const bytes = ENCODER.encode(path).byteLength;
  if (bytes > limits.maxPathBytes || path.split("/").some((s) => ENCODER.encode(s).byteLength > MAX_SEGMENT_BYTES)) {
    const shown = path.length > 512 ? `${path.slice(0, 512)}…` : path;
    return {
      skipped: {
        kind: "skipped",
        path: shown,
        size: 0,
        reason: "path too long",
        detail: `${bytes} bytes; paths are limited to ${limits.maxPathBytes} bytes and 255 per segment`,
      },
    };
  }
  return { path };
}

/**
 * A symbolic link's entry, its target exactly as stored; a target longer than a path may be is skipped
 * as "path too long" (nothing could resolve it, and it is not kept in memory or in the catalog).
 */
export function symlinkEntry(path: string, target: string, limits: ArchiveLimits): ArchiveEntry {
  const bytes = ENCODER.encode(target).byteLength;
  if (bytes <= limits.maxPathBytes) return { kind: "symlink", path, target };
  return {
    kind: "skipped",
    path,
    size: bytes,
    reason: "path too long",
    detail: `a link target of ${bytes} bytes; paths are limited to ${limits.maxPathBytes} bytes`,
  };
}
