/**
 * The identifiers of a text with the line each is on: exactly the matches of
 * `/[\p{L}_$][\p{L}\p{N}_$]*|\p{N}+/gu`, found by one scan of char codes (ASCII decided by range, other code
 * points by the Unicode property), without the match objects a regex scan allocates for every name.
 */

const LETTER = /^\p{L}$/u;
const NUMBER = /^\p{N}$/u;

const isAsciiLetter = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36;
const isAsciiDigit = (c: number): boolean => c >= 48 && c <= 57;

const isLetter = (cp: number): boolean => (cp < 128 ? isAsciiLetter(cp) : LETTER.test(String.fromCodePoint(cp)));
const isNumber = (cp: number): boolean => (cp < 128 ? isAsciiDigit(cp) : NUMBER.test(String.fromCodePoint(cp)));
// Code units of a code point (a lone surrogate stands for itself).
const width = (cp: number): number => (cp > 0xffff ? 2 : 1);

/**
 * Calls `onName(name, line)` for each identifier or number of `text` at least `minLength` code units long,
 * in order; lines count from 0. Shorter ones are passed over without being cut out of the text.
 */
export function forEachIdentifier(text: string, onName: (name: string, line: number) => void, minLength = 1): void {
  const n = text.length;
  let line = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      i++;
      continue;
    }
    if (c < 128 && !isAsciiLetter(c) && !isAsciiDigit(c)) {
      i++;
      continue;
    }
    const cp = c < 128 ? c : (text.codePointAt(i) as number);
    if (isLetter(cp)) {
      let j = i + width(cp);
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d < 128) {
          if (isAsciiLetter(d) || isAsciiDigit(d)) j++;
          else break;
        } else {
          const dp = text.codePointAt(j) as number;
          if (isLetter(dp) || isNumber(dp)) j += width(dp);
          else break;
        }
      }
      if (j - i >= minLength) onName(text.slice(i, j), line);
      i = j;
    } else if (isNumber(cp)) {
      let j = i + width(cp);
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d < 128) {
          if (isAsciiDigit(d)) j++;
          else break;
        } else {
          const dp = text.codePointAt(j) as number;
          if (isNumber(dp)) j += width(dp);
          else break;
        }
      }
      if (j - i >= minLength) onName(text.slice(i, j), line);
      i = j;
    } else i += width(cp);
  }
}

const isAsciiWord = (c: number): boolean => isAsciiLetter(c) || isAsciiDigit(c);
const isWordPoint = (cp: number): boolean => (cp < 128 ? isAsciiWord(cp) : isLetter(cp) || isNumber(cp));

/** Where the run of identifier characters (`[\p{L}\p{N}_$]`) holding `at` starts: code points, surrogate pairs whole. */
function runStart(text: string, at: number): number {
  let start = at;
  while (start > 0) {
    const c = text.charCodeAt(start - 1);
    if (c < 128) {
      if (!isAsciiWord(c)) break;
      start--;
      continue;
    }
    // A low surrogate after a high one is the second half of one code point.
    const pair = c >= 0xdc00 && c <= 0xdfff && start > 1 && (text.charCodeAt(start - 2) & 0xfc00) === 0xd800;
    const cp = pair ? (text.codePointAt(start - 2) as number) : c;
    if (!isWordPoint(cp)) break;
    start -= pair ? 2 : 1;
  }
  return start;
}

/** Where the run of identifier characters holding or starting at `at` ends (exclusive). */
function runEnd(text: string, at: number): number {
  let end = at;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if (c < 128) {
      if (!isAsciiWord(c)) break;
      end++;
      continue;
    }
    const cp = text.codePointAt(end) as number;
    if (!isWordPoint(cp)) break;
    end += width(cp);
  }
  return end;
}

/**
 * Each maximal run of identifier characters (`[\p{L}\p{N}_$]`) that holds a match of the global `pattern`,
 * once, with its line (from 0). A run's identifiers are those `forEachIdentifier` finds in it alone, and
 * every identifier lies in one run; so a scan for names that contain a term matching `pattern` visits only
 * the runs that could, found by the regex engine instead of a scan per character. `pattern` must match only
 * identifier characters.
 */
export function forEachRunMatching(text: string, pattern: RegExp, onRun: (run: string, line: number) => void): void {
  pattern.lastIndex = 0;
  let line = 0;
  let counted = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const start = runStart(text, m.index);
    const end = Math.max(runEnd(text, m.index), m.index + 1);
    for (let nl = text.indexOf("\n", counted); nl !== -1 && nl < start; nl = text.indexOf("\n", counted)) {
      line++;
      counted = nl + 1;
    }
    onRun(text.slice(start, end), line);
    pattern.lastIndex = end;
  }
}
