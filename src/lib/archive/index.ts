export { readArchive, formatFor, type ArchiveFormat } from "./read-archive";
export { DEFAULT_ARCHIVE_LIMITS, safePath, type ArchiveEntry, type ArchiveLimits } from "./limits";
export { writeTar, type TarFile } from "./write-tar";
