/** Picks the reader for an upload from its content type, and checks the format's magic bytes. */
import { AppError } from "../errors";
import { type ArchiveEntry, type ArchiveLimits, type ArchiveSource, corrupt, type RandomAccessFile } from "./limits";
import { readTar } from "./tar";
import { readZip } from "./zip";

export type ArchiveFormat = "tar.gz" | "tar" | "zip";

const GZIP_TYPES = new Set(["application/gzip", "application/x-gzip", "application/x-tar+gzip", "application/x-compressed-tar"]);

export function formatFor(contentType: string | undefined): ArchiveFormat {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (GZIP_TYPES.has(type)) return "tar.gz";
  if (type === "application/zip" || type === "application/x-zip-compressed") return "zip";
  if (type === "application/x-tar") return "tar";
  throw new AppError(415, "unsupported_media_type", "send the tree as application/gzip (.tar.gz), application/zip or application/x-tar");
}

/** Entries of the archive, checked against `limits` as they are read. */
export async function* readArchive(source: ArchiveSource, limits: ArchiveLimits): AsyncGenerator<ArchiveEntry> {
  if (source.format === "zip") {
    if (source.file.size === 0) throw new AppError(400, "empty_upload", "the upload is empty");
    const magic = await source.file.read(0, 2);
    if (magic[0] !== 0x50 || magic[1] !== 0x4b) throw corrupt("not a zip file");
    yield* readZip(source.file, limits);
    return;
  }
  let stream = source.stream;
  if (source.format === "tar.gz") stream = stream.pipeThrough(checkGzipMagic()).pipeThrough(new DecompressionStream("gzip"));
  yield* readTar(stream, limits);
}

/** Fails the stream at once when its first bytes are not gzip's, instead of a vaguer inflate error. */
function checkGzipMagic(): TransformStream<Uint8Array, Uint8Array> {
  let head: number[] = [];
  return new TransformStream({
    transform(chunk, controller) {
      if (head.length < 2) {
        head = [...head, ...chunk.subarray(0, 2 - head.length)];
        if (head.length === 2 && (head[0] !== 0x1f || head[1] !== 0x8b)) throw corrupt("not gzip data");
      }
      controller.enqueue(chunk);
    },
  });
}

/** Bytes already in memory as a random-access file. */
export function bytesFile(bytes: Uint8Array): RandomAccessFile {
  return { size: bytes.byteLength, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}
