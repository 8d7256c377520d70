export { BLOB_KEY, blobKey, fromBase64, getBlobBase64, MAX_BLOB_BYTES, putBlob, toBase64 } from "./blob-store";
export { chunkKey, getChunkText, putChunkText } from "./chunk-store";
export { D1_MAX_PARAMS, type Db, openDb, rowsPerStatement, runBatch, type Statement } from "./db";
export { type Read, read, readAtOnce, readNow, together } from "./read-at-once";
export * as tables from "./schema";
export { FILE_STATUSES, type FileStatus, SKIP_REASONS, type SkipReason } from "./schema";
