/** Streaming reader for POSIX tar (ustar, pax and GNU long names), optionally gzip-compressed. */
import { AppError } from "../errors";
import { ByteReader } from "./byte-reader";
import { type ArchiveEntry, type ArchiveLimits, corrupt, safePath, tooLarge } from "./limits";

const BLOCK = 512;
const DECODER = new TextDecoder();

export async function* readTar(stream: ReadableStream<Uint8Array>, limits: ArchiveLimits): AsyncGenerator<ArchiveEntry> {
  const reader = new ByteReader(
    stream,
    limits.maxUnpackedBytes,
    () => tooLarge(limits),
    (e) => corrupt(String(e)),
  );
  let entries = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  let paxSize: number | undefined;
  try {
    for (;;) {
      const header = await reader.read(BLOCK);
      if (header === null) return; // some writers omit the two zero blocks
      if (header.byteLength < BLOCK) throw corrupt("truncated header");
      if (header.every((b) => b === 0)) return;
      if (!checksumOk(header)) throw corrupt("bad header checksum");
      if (++entries > limits.maxEntries) throw new AppError(413, "too_many_entries", `the archive has more than ${limits.maxEntries} entries`);

      const type = String.fromCharCode(header[156] as number);
      const size = paxSize ?? parseNumber(header.subarray(124, 136));
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      const readBody = async (): Promise<Uint8Array> => {
        const body = (await reader.read(size)) ?? new Uint8Array();
        if (body.byteLength < size) throw corrupt("truncated entry");
        if ((await reader.skip(padded - size)) < padded - size) throw corrupt("truncated padding");
        return body;
      };

      if (type === "L") {
        longName = cString(await readBody());
        continue;
      }
      if (type === "x") {
        const pax = parsePax(await readBody());
        paxPath = pax.path ?? paxPath;
        paxSize = pax.size ?? paxSize;
        continue;
      }
      if (type === "g" || type === "K") {
        await readBody();
        continue;
      }
      const rawName = paxPath ?? longName ?? ustarName(header);
      longName = undefined;
      paxPath = undefined;
      paxSize = undefined;

      if (type === "2" || type === "1") {
        throw new AppError(400, "link_not_allowed", `archive entry "${rawName}" is a ${type === "2" ? "symbolic" : "hard"} link; links are not accepted`);
      }
      if (type === "5") {
        safePath(rawName);
        if ((await reader.skip(padded)) < padded) throw corrupt("truncated entry");
        continue;
      }
      if (type !== "0" && type !== "\0" && type !== "7") {
        throw new AppError(400, "unsupported_entry", `archive entry "${rawName}" is a special file (type ${JSON.stringify(type)})`);
      }
      const path = safePath(rawName);
      if (size > limits.maxFileBytes) {
        if ((await reader.skip(padded)) < padded) throw corrupt("truncated entry");
        yield { path, size, bytes: undefined };
      } else {
        yield { path, size, bytes: await readBody() };
      }
    }
  } finally {
    await reader.cancel();
  }
}

function checksumOk(h: Uint8Array): boolean {
  const stored = parseNumber(h.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] as number);
  return sum === stored;
}

function parseNumber(field: Uint8Array): number {
  // GNU base-256 for values that do not fit in octal.
  if (((field[0] as number) & 0x80) !== 0) {
    let v = (field[0] as number) & 0x7f;
    for (let i = 1; i < field.length; i++) v = v * 256 + (field[i] as number);
    return v;
  }
  const s = cString(field).trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw corrupt(`bad number field "${s}"`);
  return Number.parseInt(s, 8);
}

function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return DECODER.decode(end === -1 ? b : b.subarray(0, end));
}

function ustarName(h: Uint8Array): string {
  const name = cString(h.subarray(0, 100));
  const magic = cString(h.subarray(257, 262));
  const prefix = magic === "ustar" ? cString(h.subarray(345, 500)) : "";
  return prefix ? `${prefix}/${name}` : name;
}

function parsePax(body: Uint8Array): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  const text = DECODER.decode(body);
  let i = 0;
  while (i < text.length) {
    const space = text.indexOf(" ", i);
    if (space === -1) break;
    const len = Number.parseInt(text.slice(i, space), 10);
    if (!Number.isFinite(len) || len <= 0) throw corrupt("bad pax record");
    const record = text.slice(space + 1, i + len - 1);
    const eq = record.indexOf("=");
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === "path") out.path = value;
    if (key === "size") out.size = Number.parseInt(value, 10);
    i += len;
  }
  return out;
}
