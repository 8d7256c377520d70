export { chunkKey, getChunkText, putChunkText } from "./chunk-store";
export { D1_MAX_PARAMS, type Db, openDb, rowsPerStatement } from "./db";
export * as tables from "./schema";
