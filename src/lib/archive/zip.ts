/** Zip reader (stored and deflate entries, no zip64) over a buffered upload. */
import { AppError } from "../errors";
import { ByteReader, streamOf } from "./byte-reader";
import { type ArchiveEntry, type ArchiveLimits, corrupt, safePath, tooLarge } from "./limits";

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const DECODER = new TextDecoder();

export async function* readZip(buf: Uint8Array, limits: ArchiveLimits): AsyncGenerator<ArchiveEntry> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let eocd = -1;
  // The end record sits in the last 22 + 65535 (max comment) bytes.
  for (let i = buf.byteLength - 22; i >= Math.max(0, buf.byteLength - 22 - 65535); i--) {
    if (view.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw corrupt("no end-of-central-directory record");
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  if (count === 0xffff || at === 0xffffffff) throw new AppError(400, "unsupported_archive", "zip64 archives are not supported; upload a .tar.gz");
  if (count > limits.maxEntries) throw new AppError(413, "too_many_entries", `the archive has more than ${limits.maxEntries} entries`);
  let unpacked = 0;
  for (let n = 0; n < count; n++) {
    if (at + 46 > buf.byteLength || view.getUint32(at, true) !== CENTRAL) throw corrupt("bad central directory");
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const compressed = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLen = view.getUint16(at + 28, true);
    const extraLen = view.getUint16(at + 30, true);
    const commentLen = view.getUint16(at + 32, true);
    const external = view.getUint32(at + 38, true);
    const localAt = view.getUint32(at + 42, true);
    const rawName = DECODER.decode(buf.subarray(at + 46, at + 46 + nameLen));
    at += 46 + nameLen + extraLen + commentLen;

    const unixMode = external >>> 16;
    if ((unixMode & 0o170000) === 0o120000)
      throw new AppError(400, "link_not_allowed", `archive entry "${rawName}" is a symbolic link; links are not accepted`);
    if (rawName.endsWith("/")) {
      safePath(rawName);
      continue;
    }
    const path = safePath(rawName);
    if ((flags & 1) !== 0) throw new AppError(400, "unsupported_archive", `archive entry "${rawName}" is encrypted`);
    unpacked += size;
    if (unpacked > limits.maxUnpackedBytes) throw tooLarge(limits);
    if (size > limits.maxFileBytes) {
      yield { path, size, bytes: undefined };
      continue;
    }
    if (localAt + 30 > buf.byteLength || view.getUint32(localAt, true) !== LOCAL) throw corrupt(`bad local header for "${rawName}"`);
    const dataAt = localAt + 30 + view.getUint16(localAt + 26, true) + view.getUint16(localAt + 28, true);
    if (dataAt + compressed > buf.byteLength) throw corrupt(`entry "${rawName}" runs past the end`);
    const data = buf.subarray(dataAt, dataAt + compressed);
    let bytes: Uint8Array;
    if (method === 0) bytes = data;
    else if (method === 8) bytes = await inflateCapped(data, size, rawName);
    else throw new AppError(400, "unsupported_archive", `archive entry "${rawName}" uses compression method ${method}`);
    if (bytes.byteLength !== size) throw corrupt(`entry "${rawName}" does not match its declared size`);
    yield { path, size, bytes };
  }
}

/** Inflates raw deflate data, refusing to produce more than the declared size (a lying header is a bomb). */
async function inflateCapped(data: Uint8Array, declared: number, name: string): Promise<Uint8Array> {
  const stream = streamOf(data).pipeThrough(new DecompressionStream("deflate-raw"));
  const reader = new ByteReader(
    stream,
    declared,
    () => corrupt(`entry "${name}" inflates past its declared size`),
    (e) => corrupt(`entry "${name}": ${String(e)}`),
  );
  const out = (await reader.read(declared)) ?? new Uint8Array();
  if ((await reader.read(1)) !== null) throw corrupt(`entry "${name}" inflates past its declared size`);
  return out;
}
