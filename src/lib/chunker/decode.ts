/** Turns a repository file's bytes into normalised text whatever its encoding (UTF-8, UTF-16 with a BOM, 8-bit legacy), or says it is binary. */
import { isBinaryPath, normalizeText } from "./normalize";

/** "utf-8", "utf-16le", "utf-16be", or the WHATWG label of the legacy single-byte encoding used. */
export type TextEncodingName = "utf-8" | "utf-16le" | "utf-16be" | LegacyEncoding;
export type DecodedFile = { kind: "text"; text: string; encoding: TextEncodingName } | { kind: "binary" };

/** The single-byte encodings detection chooses from; the first is the default when the bytes do not say otherwise. */
export const LEGACY_ENCODINGS = ["windows-1252", "windows-1250", "iso-8859-2", "windows-1251", "koi8-r"] as const;
export type LegacyEncoding = (typeof LEGACY_ENCODINGS)[number];

// Binary sniffing looks at the first 8 KiB, as git (and decodeFile) do.
const SNIFF_BYTES = 8000;
// Detection reads at most this much; the first 256 KiB of a file say as much about its encoding as the rest.
const DETECT_BYTES = 256 * 1024;
// Invalid UTF-8 with at least this many valid multi-byte sequences per invalid byte is UTF-8 with a few bad bytes,
// not a legacy encoding: legacy text makes valid UTF-8 sequences only by rare accident.
const UTF8_MAJORITY = 4;

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const LOSSY_UTF8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * Decodes a file for ingestion. Binary by extension or by a NUL in its first 8 KiB, except UTF-16 with a BOM;
 * UTF-8 (BOM or not) as UTF-8; anything else as the legacy single-byte encoding that best explains its bytes
 * (see `detectLegacyEncoding`), so a text file is never refused for its encoding. The text has no BOM and LF line ends.
 */
export function decodeBytes(path: string, bytes: Uint8Array): DecodedFile {
  if (isBinaryPath(path)) return { kind: "binary" };
  const utf16 = bytes[0] === 0xff && bytes[1] === 0xfe ? "utf-16le" : bytes[0] === 0xfe && bytes[1] === 0xff ? "utf-16be" : null;
  if (utf16) {
    const text = new TextDecoder(utf16).decode(bytes);
    // FF FE 00 00 opens UTF-32LE, and binary formats may open with these bytes too: their NULs survive decoding.
    return text.slice(0, SNIFF_BYTES).includes("\0") ? { kind: "binary" } : { kind: "text", text: normalizeText(text), encoding: utf16 };
  }
  if (bytes.subarray(0, SNIFF_BYTES).includes(0)) return { kind: "binary" };
  try {
    return { kind: "text", text: normalizeText(STRICT_UTF8.decode(bytes)), encoding: "utf-8" };
  } catch {
    // not valid UTF-8: a BOM or a clear majority of valid sequences still says UTF-8, else a legacy encoding
  }
  const hasBom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const { valid, invalid } = countUtf8Sequences(bytes);
  if (hasBom || valid >= UTF8_MAJORITY * invalid) return { kind: "text", text: normalizeText(LOSSY_UTF8.decode(bytes)), encoding: "utf-8" };
  const encoding = detectLegacyEncoding(bytes.subarray(0, DETECT_BYTES));
  return { kind: "text", text: normalizeText(decodeLegacy(bytes, encoding)), encoding };
}

/** Decodes with a 256-entry table, so every runtime gives the same text (Node's "windows-1252" is really Latin-1). */
export function decodeLegacy(bytes: Uint8Array, encoding: LegacyEncoding): string {
  const units = codeUnits(encoding);
  const out = new Uint16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = units[bytes[i] as number] as number;
  return UTF16LE.decode(out);
}

/**
 * The legacy encoding whose reading of the bytes looks most like text: each byte from 0x80 up is scored by how
 * common its character is in the languages the encoding serves, with penalties for control characters, symbols
 * inside words, Cyrillic letters inside Latin words, long words of accented letters only, and case flips inside
 * a word. windows-1252 wins ties, so only bytes that read clearly better elsewhere move a file off it.
 */
export function detectLegacyEncoding(bytes: Uint8Array): LegacyEncoding {
  let best: LegacyEncoding = "windows-1252";
  let bestScore = scoreAs(bytes, best);
  for (const encoding of LEGACY_ENCODINGS.slice(1)) {
    const score = scoreAs(bytes, encoding);
    if (score > bestScore + 0.5) {
      best = encoding;
      bestScore = score;
    }
  }
  return best;
}

/** Counts well-formed multi-byte UTF-8 sequences and bytes that start no well-formed sequence. */
function countUtf8Sequences(bytes: Uint8Array): { valid: number; invalid: number } {
  let valid = 0;
  let invalid = 0;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    const len = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    let ok = len > 0 && i + len <= bytes.length;
    for (let k = 1; ok && k < len; k++) ok = ((bytes[i + k] as number) & 0xc0) === 0x80;
    if (ok && len === 3) {
      const c = bytes[i + 1] as number;
      // overlong forms and UTF-16 surrogates
      ok = !(b === 0xe0 && c < 0xa0) && !(b === 0xed && c >= 0xa0);
    }
    if (ok && len === 4) {
      const c = bytes[i + 1] as number;
      ok = !(b === 0xf0 && c < 0x90) && !(b === 0xf4 && c >= 0x90);
    }
    if (ok) {
      valid++;
      i += len;
    } else {
      invalid++;
      i++;
    }
  }
  return { valid, invalid };
}

const UTF16LE = new TextDecoder("utf-16le");

// windows-1252's 0x80–0x9F; 0xA0–0xFF are Latin-1. Kept here because Node decodes "windows-1252" as Latin-1.
const WINDOWS_1252_HIGH_C1 = "€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ";

const tables = new Map<LegacyEncoding, Uint16Array>();

function codeUnits(encoding: LegacyEncoding): Uint16Array {
  let table = tables.get(encoding);
  if (table) return table;
  table = new Uint16Array(256);
  const high =
    encoding === "windows-1252"
      ? WINDOWS_1252_HIGH_C1 + String.fromCharCode(...Array.from({ length: 96 }, (_, i) => 0xa0 + i))
      : new TextDecoder(encoding).decode(Uint8Array.from({ length: 128 }, (_, i) => 0x80 + i));
  if (high.length !== 128) throw new Error(`${encoding} is not a single-byte encoding here`);
  for (let b = 0; b < 256; b++) table[b] = b < 0x80 ? b : high.charCodeAt(b - 0x80);
  tables.set(encoding, table);
  return table;
}

// ---- scoring ----

type Model = { cyrillic: boolean; weights: Map<string, number> };

// Score of a character a model does not list: a letter of its script, anything else printable, a control.
const UNLISTED_LETTER = -6;
const UNLISTED_OTHER = -7;
const CONTROL = -12;
// An uppercase letter scores as its lowercase one less this: text is mostly lowercase, but all-caps text exists.
const UPPER_COST = 1;
// Per character: a Cyrillic letter in a word with ASCII letters; an accented letter in a 3+ letter word with no
// ASCII letter (how Cyrillic reads in a Latin encoding); a symbol between two letters; a lower-to-upper flip.
const MIXED_SCRIPT = -8;
const ALL_ACCENTED_WORD = -5;
const SYMBOL_IN_WORD = -6;
const CASE_FLIP = -4;
// A one-letter word that no language of the model has (Polish has no "ą", French has "à").
const LONE_LETTER = -4;
// Russian text is about 43% vowels; a Cyrillic reading pays this per letter for each unit of distance from that,
// which is what tells koi8-r from windows-1251 in all-caps text (both readings are then plausible letters).
const VOWEL_SHARE = 0.43;
const VOWEL_COST = 5;

type Tiers = [weight: number, lowercase: string][];

function weights(letters: Tiers, others: Tiers): Map<string, number> {
  const out = new Map<string, number>();
  for (const [weight, chars] of letters)
    for (const ch of chars) {
      out.set(ch, weight);
      const up = ch.toUpperCase();
      if (up.length === 1 && up !== ch) out.set(up, weight - UPPER_COST);
    }
  for (const [weight, chars] of others) for (const ch of chars) out.set(ch, weight);
  return out;
}

const SYMBOLS: Tiers = [
  [-2, "“”‘’„«»–—…•€£©®°§·\u00a0™№±µ"],
  [-3, "¿¡×½¼¬²³¹¢¥¤¦¨¯´¸ªº÷‰†‡‹›ˆ˜ƒ¶\u00ad"],
];
// Russian letter frequencies in percent: all-caps text reads as plausible letters in both koi8-r and windows-1251
// (the two swap case), so only which letters appear, and how often, tells them apart.
const RUSSIAN_PERCENT: Record<string, number> = {
  о: 10.97,
  е: 8.45,
  а: 8.01,
  и: 7.35,
  н: 6.7,
  т: 6.26,
  с: 5.47,
  р: 4.73,
  в: 4.54,
  л: 4.4,
  к: 3.49,
  м: 3.21,
  д: 2.98,
  п: 2.81,
  у: 2.62,
  я: 2.01,
  ы: 1.9,
  ь: 1.74,
  г: 1.7,
  з: 1.65,
  б: 1.59,
  ч: 1.44,
  й: 1.21,
  х: 0.97,
  ж: 0.94,
  ш: 0.73,
  ю: 0.64,
  ц: 0.48,
  щ: 0.36,
  э: 0.32,
  ф: 0.26,
  ъ: 0.04,
  ё: 0.04,
};

// From -1 for "о" down to about -6 for "ъ": 0.6 points per halving of frequency.
function russianTiers(): Tiers {
  return Object.entries(RUSSIAN_PERCENT).map(([ch, p]) => [-1 - 0.6 * Math.log2(10.97 / p), ch]);
}

const LONE_LETTERS = new Set("àáâéèêíóòôúùåäöøýÀÁÉÈÓÚÅÄÖØвскиаоуяВСКИАОУЯіїєІЇЄ");
const CYRILLIC_VOWELS = new Set("аеёиоуыэюяіїєАЕЁИОУЫЭЮЯІЇЄ");

const MODELS = {
  western: {
    cyrillic: false,
    weights: weights(
      [
        [-1, "éèàçêâôüöäßñáíóúãõøåæðþ"],
        [-3, "îûëïùìòýÿœšž"],
      ],
      SYMBOLS,
    ),
  },
  central: {
    cyrillic: false,
    weights: weights(
      [
        [-1, "áéíóúýčřšžěůąęłśźżćńőűöüäôňťďľăşţîâ"],
        [-3, "ĺŕđçëß"],
      ],
      SYMBOLS,
    ),
  },
  cyrillic: {
    cyrillic: true,
    weights: weights([...russianTiers(), [-3, "іїєґўђѓќљњћџѕј"]], SYMBOLS),
  },
} satisfies Record<string, Model>;

const MODEL_OF: Record<LegacyEncoding, Model> = {
  "windows-1252": MODELS.western,
  "windows-1250": MODELS.central,
  "iso-8859-2": MODELS.central,
  "windows-1251": MODELS.cyrillic,
  "koi8-r": MODELS.cyrillic,
};

// Per byte 0x80–0xFF under one encoding: its base score and what kind of character it is.
type ByteInfo = { score: number; letter: boolean; upper: boolean; lower: boolean; cyrillic: boolean; vowel: boolean; lone: boolean };
const infos = new Map<LegacyEncoding, ByteInfo[]>();

function byteInfo(encoding: LegacyEncoding): ByteInfo[] {
  const cached = infos.get(encoding);
  if (cached) return cached;
  const model = MODEL_OF[encoding];
  const units = codeUnits(encoding);
  const out: ByteInfo[] = [];
  for (let b = 0x80; b < 0x100; b++) {
    const ch = String.fromCharCode(units[b] as number);
    const letter = /\p{L}/u.test(ch);
    const cyrillic = /\p{Script=Cyrillic}/u.test(ch);
    const listed = model.weights.get(ch);
    const score = listed ?? (/[\p{Cc}\p{Cn}\ufffd]/u.test(ch) ? CONTROL : letter && model.cyrillic === cyrillic ? UNLISTED_LETTER : UNLISTED_OTHER);
    out.push({
      score,
      letter,
      upper: /\p{Lu}/u.test(ch),
      lower: /\p{Ll}/u.test(ch),
      cyrillic,
      vowel: CYRILLIC_VOWELS.has(ch),
      lone: LONE_LETTERS.has(ch),
    });
  }
  infos.set(encoding, out);
  return out;
}

const isAsciiLetter = (b: number): boolean => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);

/** How much the bytes read like text in `encoding`: 0 for pure ASCII, more negative the less plausible. */
function scoreAs(bytes: Uint8Array, encoding: LegacyEncoding): number {
  const info = byteInfo(encoding);
  const letterAt = (i: number): boolean => {
    const b = bytes[i];
    if (b === undefined) return false;
    return b < 0x80 ? isAsciiLetter(b) : (info[b - 0x80] as ByteInfo).letter;
  };
  let score = 0;
  let cyrillicLetters = 0;
  let cyrillicVowels = 0;
  // The current word (letters since the last non-letter): its ASCII, Cyrillic and other letters, and its last letter.
  let ascii = 0;
  let cyrillic = 0;
  let accented = 0;
  let last: ByteInfo | undefined;
  const endWord = (): void => {
    if (cyrillic > 0 && ascii > 0) score += MIXED_SCRIPT * cyrillic;
    if (accented >= 3 && ascii === 0) score += ALL_ACCENTED_WORD * accented;
    if (ascii === 0 && cyrillic + accented === 1 && last && !last.lone) score += LONE_LETTER;
    ascii = 0;
    cyrillic = 0;
    accented = 0;
    last = undefined;
  };
  // Whether the previous byte was a lowercase letter, and whether it was 0x80 or above.
  let prevLower = false;
  let prevHigh = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      if (isAsciiLetter(b)) {
        ascii++;
        if (prevLower && prevHigh && b < 0x61) score += CASE_FLIP;
        prevLower = b >= 0x61;
      } else {
        endWord();
        prevLower = false;
      }
      prevHigh = false;
      continue;
    }
    prevHigh = true;
    const c = info[b - 0x80] as ByteInfo;
    score += c.score;
    if (!c.letter) {
      if (letterAt(i - 1) && letterAt(i + 1)) score += SYMBOL_IN_WORD;
      endWord();
      prevLower = false;
      continue;
    }
    if (c.cyrillic) {
      cyrillic++;
      cyrillicLetters++;
      if (c.vowel) cyrillicVowels++;
    } else accented++;
    last = c;
    if (prevLower && c.upper) score += CASE_FLIP;
    prevLower = c.lower;
  }
  endWord();
  if (cyrillicLetters > 0) score -= VOWEL_COST * Math.abs(cyrillicVowels / cyrillicLetters - VOWEL_SHARE) * cyrillicLetters;
  return score;
}
