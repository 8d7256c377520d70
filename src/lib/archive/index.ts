export {
  type ArchiveEntry,
  type ArchiveLimits,
  type ArchiveSource,
  checkEntryPath,
  corrupt,
  DEFAULT_ARCHIVE_LIMITS,
  type RandomAccessFile,
  type SkippedEntryReason,
  safePath,
} from "./limits";
export { type ArchiveFormat, bytesFile, formatFor, readArchive } from "./read-archive";
export { type TarFile, writeTar } from "./write-tar";
