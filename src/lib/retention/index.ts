export { readCursor, writeCursor } from "./cursors";
export { type ExpireDeps, type ExpireOptions, type ExpireReport, expireRows } from "./expire";
export { collectGarbage, GC_GRACE_MS, type GcDeps, type GcOptions, type GcReport } from "./gc";
export {
  DAY_MS,
  effectiveRetention,
  MAX_RETENTION_DAYS,
  MIN_RETENTION_DAYS,
  RETENTION_DEFAULTS,
  type RetentionSettings,
  readRetention,
  type StoredRetention,
  updateRetention,
} from "./policy";
export { enforceRetention, type RetentionOptions, type RetentionReport, runMaintenance } from "./run";
export { STALE_MS, sweepStaging, sweepUploads } from "./sweep";
