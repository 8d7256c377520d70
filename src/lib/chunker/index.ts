export { chunkText, utf8Length, type ChunkOptions, type TextChunk } from "./chunk-text";
export { decodeFile, normalizeText, isBinaryPath, type Decoded } from "./normalize";
export { fileType, type ChunkType } from "./file-type";
export { buildIgnoreRules, DEFAULT_IGNORES, type IgnoreRules } from "./ignore-rules";
export { chunkRecords, type RecordChunk } from "./chunk-records";
