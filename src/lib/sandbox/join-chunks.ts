/** A file's text from its chunks in order: each chunk overlaps the previous one, so only the bytes past the end so far are kept. */
const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

export type ChunkPart = { byteOffset: number; text: string };

/** Joins `parts` (sorted by ordinal; `byteOffset` counts UTF-8 bytes of the file) into the file's text. */
export function joinChunks(parts: readonly ChunkPart[]): string {
  const pieces: Uint8Array[] = [];
  let end = 0;
  let size = 0;
  for (const p of parts) {
    const bytes = ENCODER.encode(p.text);
    const piece = bytes.subarray(Math.max(0, end - p.byteOffset));
    pieces.push(piece);
    size += piece.byteLength;
    end = Math.max(end, p.byteOffset + bytes.byteLength);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of pieces) {
    all.set(p, at);
    at += p.byteLength;
  }
  return DECODER.decode(all);
}
