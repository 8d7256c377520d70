/** One tiktoken encoding (pre-token regex + rank table), with a memo of pre-token counts. */
import cl100k from "js-tiktoken/ranks/cl100k_base";
import o200k from "js-tiktoken/ranks/o200k_base";
import { encodeBytes, type RankTable, toByteString, tokenByteEnds } from "./bpe";

export type EncodingName = "cl100k_base" | "o200k_base";

type RankFile = { pat_str: string; bpe_ranks: string };

const RANK_FILES: Record<EncodingName, RankFile> = { cl100k_base: cl100k, o200k_base: o200k };

// Pre-tokens repeat heavily in code (keywords, identifiers, indentation); memoising their
// counts makes re-counting a chunk nearly free. Long pieces rarely repeat, so they are not kept,
// and the memo is dropped whole when it reaches this many entries to bound memory (~40 MB worst case).
const MEMO_MAX_PIECE_CHARS = 64;
const MEMO_MAX_ENTRIES = 400_000;

/** A pre-token: its text and the UTF-16 index where it starts. */
export type Piece = { text: string; index: number };

export class Encoding {
  readonly name: EncodingName;
  private readonly pattern: RegExp;
  private readonly table: RankTable;
  private readonly memo = new Map<string, number>();

  constructor(name: EncodingName, file: RankFile) {
    this.name = name;
    this.pattern = new RegExp(file.pat_str, "gu");
    this.table = parseRanks(file.bpe_ranks);
  }

  /** Token ids of `text`, special-token strings treated as ordinary text. */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const m of text.matchAll(this.pattern)) {
      for (const id of encodeBytes(toByteString(m[0]), this.table)) out.push(id);
    }
    return out;
  }

  /** The number of tokens `encode(text)` would return. */
  count(text: string): number {
    let total = 0;
    const re = this.pattern;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) total += this.countPiece(m[0]);
    return total;
  }

  /** Tokens of a single pre-token. */
  countPiece(piece: string): number {
    const hit = this.memo.get(piece);
    if (hit !== undefined) return hit;
    const n = encodeBytes(toByteString(piece), this.table).length;
    if (piece.length <= MEMO_MAX_PIECE_CHARS) {
      if (this.memo.size >= MEMO_MAX_ENTRIES) this.memo.clear();
      this.memo.set(piece, n);
    }
    return n;
  }

  /** UTF-16 offsets (relative to `piece`) where each of its tokens ends, never inside a character. */
  tokenEnds(piece: string): number[] {
    const byteEnds = tokenByteEnds(toByteString(piece), this.table);
    const out: number[] = [];
    let bytes = 0;
    let ch = 0;
    for (const be of byteEnds) {
      while (bytes < be && ch < piece.length) {
        const c = piece.charCodeAt(ch);
        if (c >= 0xd800 && c <= 0xdbff) {
          bytes += 4;
          ch += 2;
        } else {
          bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
          ch += 1;
        }
      }
      if (out[out.length - 1] !== ch) out.push(ch);
    }
    return out;
  }

  /** Calls `visit` with every pre-token of `text` in order, and its token count. */
  forEachPiece(text: string, visit: (piece: string, index: number, tokens: number) => void): void {
    const re = this.pattern;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) visit(m[0], m.index, this.countPiece(m[0]));
  }
}

function parseRanks(bpeRanks: string): RankTable {
  const ranks = new Map<string, number>();
  let maxTokenBytes = 1;
  for (const line of bpeRanks.split("\n")) {
    if (!line) continue;
    const fields = line.split(" ");
    const offset = Number.parseInt(fields[1] ?? "", 10);
    for (let i = 2; i < fields.length; i++) {
      // atob yields exactly the binary string (one char per byte) the BPE keys use.
      const bytes = atob(fields[i] as string);
      ranks.set(bytes, offset + i - 2);
      if (bytes.length > maxTokenBytes) maxTokenBytes = bytes.length;
    }
  }
  return { ranks, maxTokenBytes };
}

const loaded = new Map<EncodingName, Encoding>();

/** The encoding, built on first use (tens of milliseconds) and kept for the isolate's life. */
export function getEncoding(name: EncodingName): Encoding {
  let enc = loaded.get(name);
  if (!enc) {
    enc = new Encoding(name, RANK_FILES[name]);
    loaded.set(name, enc);
  }
  return enc;
}
