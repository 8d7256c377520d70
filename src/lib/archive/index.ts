export { type ArchiveEntry, type ArchiveLimits, DEFAULT_ARCHIVE_LIMITS, safePath } from "./limits";
export { type ArchiveFormat, formatFor, readArchive } from "./read-archive";
export { type TarFile, writeTar } from "./write-tar";
