/** An R2 object as a random-access file (read by ranges, in cached blocks); kept out of the archive index, which Node scripts import. */
import { corrupt, type RandomAccessFile } from "./limits";

// A zip's local headers and small entries sit next to each other, so one 1 MiB range read serves hundreds
// of them (a 70,000-entry zip of small files is tens of reads, not 140,000); four blocks (4 MiB) cover the
// block being read and its neighbour when an entry straddles a boundary, with room to spare.
const BLOCK_BYTES = 1024 * 1024;
const CACHED_BLOCKS = 4;

/**
 * An R2 object read by ranges: reads smaller than a block are served from aligned 1 MiB blocks kept in a
 * small LRU cache; larger reads (a central directory, a big entry) are one range read of their own.
 */
export function r2File(bucket: R2Bucket, key: string, size: number): RandomAccessFile {
  const fetchRange = async (offset: number, length: number): Promise<Uint8Array> => {
    const obj = await bucket.get(key, { range: { offset, length } });
    if (!obj) throw corrupt("the uploaded archive disappeared while it was read");
    const bytes = new Uint8Array(await obj.arrayBuffer());
    if (bytes.byteLength !== length) throw corrupt(`a range read returned ${bytes.byteLength} of ${length} bytes`);
    return bytes;
  };
  const blocks = new Map<number, Promise<Uint8Array>>();
  const block = (index: number): Promise<Uint8Array> => {
    let cached = blocks.get(index);
    if (cached) {
      // Map order is insertion order: re-inserting makes this block the most recently used.
      blocks.delete(index);
    } else {
      const at = index * BLOCK_BYTES;
      cached = fetchRange(at, Math.min(BLOCK_BYTES, size - at));
      // A failed read is not cached, so a retry reads again.
      cached.catch(() => blocks.delete(index));
    }
    blocks.set(index, cached);
    while (blocks.size > CACHED_BLOCKS) blocks.delete(blocks.keys().next().value as number);
    return cached;
  };
  return {
    size,
    async read(offset, length) {
      const len = Math.max(0, Math.min(length, size - offset));
      if (len === 0 || offset < 0) return new Uint8Array();
      if (len >= BLOCK_BYTES) return fetchRange(offset, len);
      const first = Math.floor(offset / BLOCK_BYTES);
      const last = Math.floor((offset + len - 1) / BLOCK_BYTES);
      if (first === last) {
        const at = offset - first * BLOCK_BYTES;
        return (await block(first)).subarray(at, at + len);
      }
      const out = new Uint8Array(len);
      for (let i = first, filled = 0; i <= last; i++) {
        const bytes = await block(i);
        const from = i === first ? offset - first * BLOCK_BYTES : 0;
        const part = bytes.subarray(from, from + len - filled);
        out.set(part, filled);
        filled += part.byteLength;
      }
      return out;
    },
  };
}
