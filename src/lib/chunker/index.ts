export { chunkRecords, type RecordChunk } from "./chunk-records";
export { type ChunkOptions, chunkText, type TextChunk, utf8Length } from "./chunk-text";
export {
  type DecodedFile,
  decodeBytes,
  decodeLegacy,
  detectLegacyEncoding,
  LEGACY_ENCODINGS,
  type LegacyEncoding,
  type TextEncodingName,
} from "./decode";
export { type ChunkType, fileType } from "./file-type";
export { buildIgnoreRules, DEFAULT_IGNORES, type IgnoreRules } from "./ignore-rules";
export { type Decoded, decodeFile, isBinaryPath, normalizeText } from "./normalize";
