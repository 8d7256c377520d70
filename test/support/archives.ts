/** Builds test archives in the Workers runtime: tar.gz through the product's tar writer, zip by hand. */
import { writeTar } from "../../src/lib/archive";

const enc = new TextEncoder();

export type TreeFile = { path: string; content: string | Uint8Array };

const bytesOf = (c: string | Uint8Array): Uint8Array => (typeof c === "string" ? enc.encode(c) : c);

async function pipe(data: Uint8Array, stream: CompressionStream): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([data]).stream().pipeThrough(stream)).arrayBuffer());
}

export async function tarGz(files: TreeFile[]): Promise<Uint8Array> {
  return pipe(writeTar(files.map((f) => ({ path: f.path, bytes: bytesOf(f.content) }))), new CompressionStream("gzip"));
}

export async function gzip(data: Uint8Array): Promise<Uint8Array> {
  return pipe(data, new CompressionStream("gzip"));
}

/** A raw tar header block for entry types the writer does not produce (links, special files). */
export function tarHeader(name: string, type: string, size = 0, linkName = ""): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, at: number): void => h.set(enc.encode(s), at);
  put(name, 0);
  put("0000644\0", 100);
  put("0000000\0", 108);
  put("0000000\0", 116);
  put(`${size.toString(8).padStart(11, "0")}\0`, 124);
  put("00000000000\0", 136);
  put(type, 156);
  put(linkName, 157);
  put("ustar\u000000", 257);
  h.fill(32, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return h;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** A zip with deflated entries; `symlink` marks an entry as a Unix symbolic link. */
export async function zip(files: (TreeFile & { symlink?: boolean; declaredSize?: number })[]): Promise<Uint8Array> {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const name = enc.encode(f.path);
    const raw = bytesOf(f.content);
    const data = await pipe(raw, new CompressionStream("deflate-raw"));
    const size = f.declaredSize ?? raw.byteLength;
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(8, 8, true);
    lv.setUint32(18, data.byteLength, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(10, 8, true);
    cv.setUint32(20, data.byteLength, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(38, ((f.symlink ? 0o120777 : 0o100644) << 16) >>> 0, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local, data);
    centrals.push(central);
    offset += local.byteLength + data.byteLength;
  }
  const cd = concat(...centrals);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, files.length, true);
  ev.setUint16(10, files.length, true);
  ev.setUint32(12, cd.byteLength, true);
  ev.setUint32(16, offset, true);
  return concat(...locals, cd, end);
}
