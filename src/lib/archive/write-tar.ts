/** Minimal ustar writer (regular files, pax records for long paths), used by the CLI and tests. */
export type TarFile = { path: string; bytes: Uint8Array; mode?: number };

const ENCODER = new TextEncoder();
const BLOCK = 512;

export function writeTar(files: TarFile[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of files) {
    const nameBytes = ENCODER.encode(f.path);
    if (nameBytes.byteLength > 100) {
      const record = paxRecord("path", f.path);
      parts.push(header("././@PaxHeader", record.byteLength, "x"), pad(record));
    }
    parts.push(header(nameBytes.byteLength > 100 ? f.path.slice(-99) : f.path, f.bytes.byteLength, "0", f.mode), pad(f.bytes));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function paxRecord(key: string, value: string): Uint8Array {
  const body = ` ${key}=${value}\n`;
  // The record's length counts its own digits.
  const bodyBytes = ENCODER.encode(body).byteLength;
  let len = bodyBytes + 1;
  while (String(len).length + bodyBytes !== len) len = String(len).length + bodyBytes;
  return ENCODER.encode(`${len}${body}`);
}

function header(name: string, size: number, type: string, mode = 0o644): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const put = (s: string, at: number, len: number): void => {
    h.set(ENCODER.encode(s).subarray(0, len), at);
  };
  const octal = (n: number, len: number): string => n.toString(8).padStart(len - 1, "0");
  put(name, 0, 100);
  put(octal(mode, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  put(type, 156, 1);
  put("ustar\u000000", 257, 8);
  h.fill(32, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${octal(sum, 7)}\0`, 148, 8);
  return h;
}

function pad(b: Uint8Array): Uint8Array {
  const rem = b.byteLength % BLOCK;
  if (rem === 0) return b;
  const out = new Uint8Array(b.byteLength + BLOCK - rem);
  out.set(b);
  return out;
}
