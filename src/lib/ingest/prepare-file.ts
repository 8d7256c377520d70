/** Turns one file (or message log) into the rows the catalog stores, before any write. */
import { type ChunkType, chunkText, fileType, type TextChunk } from "../chunker";
import { sha256Hex } from "../crypto/hash";
import type { Tokenizer } from "../tokenizer";

export type ProjectSettings = {
  projectId: string;
  tokenizer: Tokenizer;
  chunkTokens: number;
  overlapTokens: number;
  maxFileBytes: number;
};

export type PreparedChunk = Omit<TextChunk, "charStart" | "charEnd"> & { sha256: string; severity?: string | undefined };

export type PreparedFile = {
  path: string;
  sha256: string;
  sizeBytes: number;
  binary: boolean;
  type: ChunkType;
  skipReason?: string | undefined;
  chunks: PreparedChunk[];
  /** The normalised text of a text file, for symbol extraction and summaries. */
  text?: string | undefined;
};

/** A text file cut into chunks with their fingerprints. */
export async function prepareTextFile(
  project: ProjectSettings,
  file: { path: string; sha256: string; size: number; text: string },
  type: ChunkType = fileType(file.path),
): Promise<PreparedFile> {
  const cut = chunkText(file.text, { tokenizer: project.tokenizer, maxTokens: project.chunkTokens, overlapTokens: project.overlapTokens });
  return { path: file.path, sha256: file.sha256, sizeBytes: file.size, binary: false, type, chunks: await fingerprint(cut), text: file.text };
}

/** A file kept as metadata only: binary, too large, or unreadable, with the reason. */
export function metadataOnly(file: { path: string; sha256: string; size: number; binary: boolean; skipReason?: string | undefined }): PreparedFile {
  return {
    path: file.path,
    sha256: file.sha256,
    sizeBytes: file.size,
    binary: file.binary,
    type: fileType(file.path),
    skipReason: file.skipReason,
    chunks: [],
  };
}

export async function fingerprint(cut: (TextChunk & { severity?: string })[]): Promise<PreparedChunk[]> {
  return Promise.all(cut.map(async ({ charStart: _s, charEnd: _e, ...c }) => ({ ...c, sha256: await sha256Hex(c.text) })));
}

/** Deterministic chunk id: the same chunk of the same file always gets the same id, so a redelivered message is a no-op. */
export async function chunkIdFor(projectId: string, path: string, ordinal: number, sha256: string): Promise<string> {
  return `chk_${(await sha256Hex(`${projectId}\0${path}\0${ordinal}\0${sha256}`)).slice(0, 32)}`;
}
