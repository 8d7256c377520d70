/** Caps that keep an upload from exhausting a Worker: checked while unpacking, before any write. */
import { AppError } from "../errors";

export type ArchiveLimits = {
  /** Total decompressed bytes; past this the archive is treated as a bomb. */
  maxUnpackedBytes: number;
  /** Bytes kept per file; larger files are listed with a skip reason but their content is dropped. */
  maxFileBytes: number;
  /** Entries of any kind. */
  maxEntries: number;
};

// 512 MiB unpacked is ~100M tokens of source, far past any single upload we serve; 200k entries
// is more than the Linux kernel tree.
export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxUnpackedBytes: 512 * 1024 * 1024,
  maxFileBytes: 1024 * 1024,
  maxEntries: 200_000,
};

export type ArchiveEntry = {
  path: string;
  size: number;
  /** Absent when the file is larger than maxFileBytes. */
  bytes: Uint8Array | undefined;
};

export const corrupt = (detail: string): AppError => new AppError(400, "corrupt_archive", `the archive is corrupt or truncated: ${detail}`);

export const tooLarge = (limits: ArchiveLimits): AppError =>
  new AppError(413, "archive_too_large", `the archive unpacks to more than ${limits.maxUnpackedBytes} bytes`);

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
