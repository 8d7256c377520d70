/**
 * Zip reader over random access (an R2 object read by ranges, or bytes in memory): the central
 * directory is authoritative, so data descriptors need nothing special; zip64 end records and extra
 * fields lift the 65,535-entry and 4 GiB limits; names are UTF-8 when flagged (or given by Info-ZIP's
 * Unicode path field, or simply valid UTF-8), else CP437. Entries are inflated against their declared size, so a lying header
 * cannot produce more than it says.
 */
import { AppError } from "../errors";
import { ByteReader, streamOf } from "./byte-reader";
import { type ArchiveEntry, type ArchiveLimits, checkEntryPath, corrupt, type RandomAccessFile, symlinkEntry, tooLarge, tooManyEntries } from "./limits";

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
// Far above any directory within the entry cap (200,000 entries of ~100 bytes).
const MAX_DIRECTORY_BYTES = 64 * 1024 * 1024;
const UTF8 = new TextDecoder("utf-8");
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
// CP437's upper half, the encoding of zip names without the UTF-8 flag.
const CP437_HIGH = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0";

const u16 = (b: Uint8Array, at: number): number => (b[at] as number) | ((b[at + 1] as number) << 8);
const u32 = (b: Uint8Array, at: number): number => (u16(b, at) + u16(b, at + 2) * 0x10000) >>> 0;
const u64 = (b: Uint8Array, at: number): number => u32(b, at) + u32(b, at + 4) * 0x100000000;

/** Wraps a source so small reads near each other are served from one larger read. */
function buffered(file: RandomAccessFile, block = 1024 * 1024): RandomAccessFile {
  let cache: { at: number; bytes: Uint8Array } | undefined;
  return {
    size: file.size,
    async read(offset, length) {
      if (cache && offset >= cache.at && offset + length <= cache.at + cache.bytes.byteLength) {
        return cache.bytes.subarray(offset - cache.at, offset - cache.at + length);
      }
      if (length >= block) return file.read(offset, length);
      const bytes = await file.read(offset, Math.min(block, file.size - offset));
      cache = { at: offset, bytes };
      return bytes.subarray(0, length);
    },
  };
}

export async function* readZip(source: RandomAccessFile, limits: ArchiveLimits): AsyncGenerator<ArchiveEntry> {
  const file = buffered(source);
  if (file.size < 22) throw corrupt("too short to be a zip file");
  // The end record sits in the last 22 + 65,535 (the longest comment) bytes.
  const tailAt = Math.max(0, file.size - 22 - 65_535);
  const tail = await source.read(tailAt, file.size - tailAt);
  let eocd = -1;
  for (let i = tail.byteLength - 22; i >= 0; i--) {
    if (u32(tail, i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw corrupt("no end-of-central-directory record");
  let count = u16(tail, eocd + 10);
  let cdSize = u32(tail, eocd + 12);
  let cdAt = u32(tail, eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdAt === 0xffffffff) {
    if (eocd < 20 || u32(tail, eocd - 20) !== EOCD64_LOCATOR) throw corrupt("a zip64 archive without its zip64 end locator");
    const recordAt = u64(tail, eocd - 20 + 8);
    const record = await file.read(recordAt, 56);
    if (record.byteLength < 56 || u32(record, 0) !== EOCD64) throw corrupt("bad zip64 end record");
    count = u64(record, 32);
    cdSize = u64(record, 40);
    cdAt = u64(record, 48);
  }
  if (count > limits.maxEntries) throw tooManyEntries(limits);
  if (cdAt + cdSize > file.size) throw corrupt("the central directory runs past the end");
  // The directory is read once (about 100 bytes an entry: 20 MiB at the entry cap), so walking it never
  // competes with the entries' data for the read cache.
  if (cdSize > MAX_DIRECTORY_BYTES) throw corrupt(`a central directory of ${cdSize} bytes`);
  const cd = await source.read(cdAt, cdSize);

  let unpacked = 0;
  let at = 0;
  for (let n = 0; n < count; n++) {
    const head = cd.subarray(at, at + 46);
    if (head.byteLength < 46 || u32(head, 0) !== CENTRAL) throw corrupt("bad central directory");
    const flags = u16(head, 8);
    const method = u16(head, 10);
    let compressed = u32(head, 20);
    let size = u32(head, 24);
    const nameLen = u16(head, 28);
    const extraLen = u16(head, 30);
    const commentLen = u16(head, 32);
    const external = u32(head, 38);
    let localAt = u32(head, 42);
    if (at + 46 + nameLen + extraLen + commentLen > cd.byteLength) throw corrupt("bad central directory");
    const rest = cd.subarray(at + 46, at + 46 + nameLen + extraLen);
    const nameBytes = rest.subarray(0, nameLen);
    const extra = rest.subarray(nameLen, nameLen + extraLen);
    at += 46 + nameLen + extraLen + commentLen;

    let rawName = (flags & 0x800) !== 0 ? UTF8.decode(nameBytes) : legacyName(nameBytes);
    for (let e = 0; e + 4 <= extra.byteLength; ) {
      const id = u16(extra, e);
      const len = u16(extra, e + 2);
      const data = extra.subarray(e + 4, e + 4 + len);
      if (id === 0x0001) {
        // zip64: only the fields whose 32-bit value is saturated are present, in this order.
        let k = 0;
        if (size === 0xffffffff) {
          size = u64(data, k);
          k += 8;
        }
        if (compressed === 0xffffffff) {
          compressed = u64(data, k);
          k += 8;
        }
        if (localAt === 0xffffffff) localAt = u64(data, k);
      } else if (id === 0x7075 && len > 5) rawName = UTF8.decode(data.subarray(5));
      e += 4 + len;
    }

    const unixMode = external >>> 16;
    const isDir = rawName.endsWith("/") || (unixMode & 0o170000) === 0o040000;
    const checked = checkEntryPath(rawName, limits);
    if (isDir) continue;
    if ("skipped" in checked) {
      yield { ...checked.skipped, size };
      continue;
    }
    const { path } = checked;
    if ((flags & 1) !== 0) throw new AppError(400, "unsupported_archive", `archive entry "${rawName}" is encrypted`);
    if (method !== 0 && method !== 8) throw new AppError(400, "unsupported_archive", `archive entry "${rawName}" uses compression method ${method}`);
    unpacked += size;
    if (unpacked > limits.maxUnpackedBytes) throw tooLarge(limits);
    const fileType = unixMode & 0o170000;
    if (fileType !== 0 && fileType !== 0o100000 && fileType !== 0o120000) {
      yield { kind: "skipped", path, size, reason: "special file", detail: `unix file type ${fileType.toString(8)}` };
      continue;
    }
    if (fileType !== 0o120000 && size > limits.maxFileBytes) {
      yield { kind: "file", path, size, mode: unixMode & 0o7777 || 0o644, bytes: undefined };
      continue;
    }
    const local = await file.read(localAt, 30);
    if (local.byteLength < 30 || u32(local, 0) !== LOCAL) throw corrupt(`bad local header for "${rawName}"`);
    const dataAt = localAt + 30 + u16(local, 26) + u16(local, 28);
    if (dataAt + compressed > file.size) throw corrupt(`entry "${rawName}" runs past the end`);
    const data = await file.read(dataAt, compressed);
    const bytes = method === 0 ? data : await inflateCapped(data, size, rawName);
    if (bytes.byteLength !== size) throw corrupt(`entry "${rawName}" does not match its declared size`);
    if (fileType === 0o120000) yield symlinkEntry(path, UTF8.decode(bytes), limits);
    else yield { kind: "file", path, size, mode: unixMode & 0o7777 || 0o644, bytes: bytes.slice() };
  }
}

/**
 * A name without the UTF-8 flag. Info-ZIP on Linux writes UTF-8 names without setting it, and a CP437
 * name is almost never valid UTF-8, so valid UTF-8 is read as such (as libarchive does in a UTF-8 locale).
 */
function legacyName(bytes: Uint8Array): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return cp437(bytes);
  }
}

function cp437(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b < 0x80 ? String.fromCharCode(b) : (CP437_HIGH[b - 0x80] as string);
  return out;
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
