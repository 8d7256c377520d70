/** Turns one file (or message log) into the rows the catalog stores, before any write. */

import { type ChunkType, chunkText, fileType, type TextChunk } from "../chunker";
import { sha256Hex } from "../crypto/hash";
import { maskSecrets, type SecretLines } from "../security/secret-scanner";
import type { FileStatus, SkipReason } from "../storage";
import type { Tokenizer } from "../tokenizer";

export type ProjectSettings = {
  projectId: string;
  tokenizer: Tokenizer;
  chunkTokens: number;
  overlapTokens: number;
  maxFileBytes: number;
  /** The org's choice for files holding a detected secret (default "mask"). */
  secretHandling?: "mask" | "reject" | undefined;
};

export type PreparedChunk = Omit<TextChunk, "charStart" | "charEnd"> & { sha256: string; severity?: string | undefined };

export type PreparedFile = {
  path: string;
  sha256: string;
  sizeBytes: number;
  binary: boolean;
  type: ChunkType;
  /** What ingestion did with the entry; text files are chunked, the others are metadata only. */
  status: FileStatus;
  /** The source encoding when it was not UTF-8. */
  encoding?: string | undefined;
  /** A recorded symbolic link's target. */
  linkTarget?: string | undefined;
  skipReason?: SkipReason | undefined;
  skipDetail?: string | undefined;
  chunks: PreparedChunk[];
  /** The normalised text of a text file (secrets masked), for symbol extraction and summaries. */
  text?: string | undefined;
  /** The secrets found in a text file (rule and lines, never the value); they are masked in every chunk. */
  secrets?: SecretLines[] | undefined;
  /** The executable bit; undefined when the source did not say (the catalog keeps what it recorded). */
  executable?: boolean | undefined;
  /** A binary file's bytes, kept as the project's blob (`blobKey`) by `writeFiles` before the row that names them. */
  blobBytes?: Uint8Array | undefined;
};

/** A text file cut into chunks with their fingerprints. */
export async function prepareTextFile(
  project: ProjectSettings,
  file: { path: string; sha256: string; size: number; text: string; encoding?: string | undefined; executable?: boolean | undefined },
  type: ChunkType = fileType(file.path),
): Promise<PreparedFile> {
  // Secrets never reach storage, search or a prompt: the text is masked before it is cut (line numbers kept).
  const masked = maskSecrets(file.text);
  if (masked.findings.length > 0 && project.secretHandling === "reject") {
    const rules = [...new Set(masked.findings.map((f) => f.ruleId))].join(", ");
    const lines = masked.findings
      .map((f) => f.startLine)
      .slice(0, 10)
      .join(", ");
    return {
      ...metadataOnly({
        path: file.path,
        sha256: file.sha256,
        size: file.size,
        status: "skipped",
        skipReason: "contains secrets",
        skipDetail: `${rules} at line ${lines}`,
      }),
      secrets: masked.findings,
    };
  }
  const cut = chunkText(masked.text, { tokenizer: project.tokenizer, maxTokens: project.chunkTokens, overlapTokens: project.overlapTokens });
  return {
    path: file.path,
    sha256: file.sha256,
    sizeBytes: file.size,
    binary: false,
    type,
    status: "text",
    encoding: file.encoding === "utf-8" ? undefined : file.encoding,
    chunks: await fingerprint(cut),
    text: masked.text,
    secrets: masked.findings.length > 0 ? masked.findings : undefined,
    executable: file.executable,
  };
}

/** An entry that is not chunked: a binary file (its bytes, when kept, in R2), a recorded link, or a skipped entry with its reason. */
export function metadataOnly(file: {
  path: string;
  sha256: string;
  size: number;
  status: Exclude<FileStatus, "text">;
  linkTarget?: string | undefined;
  skipReason?: SkipReason | undefined;
  skipDetail?: string | undefined;
  executable?: boolean | undefined;
  blobBytes?: Uint8Array | undefined;
}): PreparedFile {
  return {
    path: file.path,
    sha256: file.sha256,
    sizeBytes: file.size,
    binary: file.status === "binary",
    type: fileType(file.path),
    status: file.status,
    linkTarget: file.linkTarget,
    skipReason: file.skipReason,
    skipDetail: file.skipDetail,
    executable: file.executable,
    blobBytes: file.blobBytes,
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
