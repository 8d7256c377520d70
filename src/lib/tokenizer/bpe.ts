/**
 * Byte-pair encoding over tiktoken rank tables, exact to tiktoken's output but linear-ish on
 * pathological input: merges use a heap (O(n log n) per pre-token) instead of the quadratic
 * rescan js-tiktoken does, and pre-token counts are memoised because source code repeats them.
 */

/** A rank table keyed by "binary strings": one char per byte, code 0-255. */
export type RankTable = { ranks: Map<string, number>; maxTokenBytes: number };

const TEXT_ENCODER = new TextEncoder();

/** The UTF-8 bytes of `s` as a binary string; ASCII strings are returned as they are. */
export function toByteString(s: string): string {
  // Fast path: pure ASCII is already its own UTF-8 byte string.
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s;
  const bytes = TEXT_ENCODER.encode(s);
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

// Heap keys pack (rank, start) into one double: rank * 2^22 + start. Pieces longer than
// 2^22 bytes are cut into windows first (see encodeBytes).
const POS_BITS = 4194304;

/** Token ranks of one pre-token given as a binary string, exactly as tiktoken's byte-pair merge. */
export function encodeBytes(piece: string, table: RankTable): number[] {
  const whole = table.ranks.get(piece);
  if (whole !== undefined) return [whole];
  if (piece.length >= POS_BITS) {
    const out: number[] = [];
    for (let i = 0; i < piece.length; i += POS_BITS / 2) out.push(...encodeBytes(piece.slice(i, i + POS_BITS / 2), table));
    return out;
  }
  const out: number[] = [];
  for (const [s, e] of mergeParts(piece, table)) {
    const r = table.ranks.get(piece.slice(s, e));
    if (r !== undefined) out.push(r);
  }
  return out;
}

/** Byte offsets where each token of the pre-token ends (for cutting inside one huge pre-token). */
export function tokenByteEnds(piece: string, table: RankTable): number[] {
  if (piece.length >= POS_BITS) {
    const out: number[] = [];
    for (let i = 0; i < piece.length; i += POS_BITS / 2) for (const e of tokenByteEnds(piece.slice(i, i + POS_BITS / 2), table)) out.push(i + e);
    return out;
  }
  return mergeParts(piece, table).map(([, e]) => e);
}

function mergeParts(piece: string, table: RankTable): [number, number][] {
  const n = piece.length;
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
  }
  const heap: number[] = [];
  const pairRank = (p: number): number | undefined => {
    const q = next[p] as number;
    if (q >= n) return undefined;
    const end = next[q] as number;
    if (end - p > table.maxTokenBytes) return undefined;
    return table.ranks.get(piece.slice(p, end));
  };
  const pushPair = (p: number): void => {
    const r = pairRank(p);
    if (r !== undefined) heapPush(heap, r * POS_BITS + p);
  };
  for (let i = 0; i < n - 1; i++) pushPair(i);
  while (heap.length > 0) {
    const key = heapPop(heap);
    const p = key % POS_BITS;
    const rank = (key - p) / POS_BITS;
    // Entries are validated lazily: a stale entry no longer matches the pair's current rank.
    if (!alive[p] || pairRank(p) !== rank) continue;
    const q = next[p] as number;
    const after = next[q] as number;
    next[p] = after;
    if (after < n) prev[after] = p;
    alive[q] = 0;
    const before = prev[p] as number;
    if (before >= 0) pushPair(before);
    pushPair(p);
  }
  const parts: [number, number][] = [];
  for (let p = 0; p < n; p = next[p] as number) parts.push([p, next[p] as number]);
  return parts;
}

function heapPush(heap: number[], v: number): void {
  let i = heap.length;
  heap.push(v);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const pv = heap[parent] as number;
    if (pv <= v) break;
    heap[i] = pv;
    i = parent;
  }
  heap[i] = v;
}

function heapPop(heap: number[]): number {
  const top = heap[0] as number;
  const last = heap.pop() as number;
  const n = heap.length;
  if (n === 0) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && (heap[r] as number) < (heap[l] as number) ? r : l;
    if ((heap[c] as number) >= last) break;
    heap[i] = heap[c] as number;
    i = c;
  }
  heap[i] = last;
  return top;
}
