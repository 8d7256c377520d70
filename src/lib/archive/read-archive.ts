/** Picks the reader for an upload from its content type and magic bytes. */
import { AppError } from "../errors";
import { streamOf } from "./byte-reader";
import { type ArchiveEntry, type ArchiveLimits, corrupt } from "./limits";
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

/** Entries of the archive in `body`, checked against `limits` as they are read. */
export function readArchive(format: ArchiveFormat, body: Uint8Array, limits: ArchiveLimits): AsyncGenerator<ArchiveEntry> {
  if (body.byteLength === 0) throw new AppError(400, "empty_upload", "the request body is empty");
  if (format === "zip") {
    if (body[0] !== 0x50 || body[1] !== 0x4b) throw corrupt("not a zip file");
    return readZip(body, limits);
  }
  let stream = streamOf(body);
  if (format === "tar.gz") {
    if (body[0] !== 0x1f || body[1] !== 0x8b) throw corrupt("not gzip data");
    stream = stream.pipeThrough(new DecompressionStream("gzip"));
  }
  return readTar(stream, limits);
}
