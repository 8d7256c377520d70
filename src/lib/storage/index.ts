export { openDb, rowsPerStatement, D1_MAX_PARAMS, type Db } from "./db";
export { chunkKey, putChunkText, getChunkText } from "./chunk-store";
export * as tables from "./schema";
