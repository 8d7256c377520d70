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
 * Finds words in a text, ASCII case aside, in one pass of an automaton over its char codes (Aho–Corasick, its
 * moves in one table): a regex of many alternatives tries each at every position.
 */
export class WordMatcher {
  private constructor(
    /** Each char code under 128 as its column (0: in no word). */
    private readonly columns: Uint8Array,
    /** log2 of the columns per state. */
    private readonly shift: number,
    /** The state after each state and column. */
    private readonly moves: Int32Array,
    /** Whether a word ends in the state. */
    private readonly ends: Uint8Array,
  ) {}

  /** A matcher of the words that are made of ASCII identifier characters (only those can lie in a name); none if there are none. */
  static of(words: readonly string[]): WordMatcher | undefined {
    const sought = [...new Set(words.map((w) => w.toLowerCase()).filter((w) => /^[a-z0-9_$]+$/.test(w)))];
    if (sought.length === 0) return undefined;
    const columns = new Uint8Array(128);
    let used = 1;
    for (const w of sought)
      for (let i = 0; i < w.length; i++) {
        const c = w.charCodeAt(i);
        if (columns[c] === 0) columns[c] = used++;
      }
    for (let c = 65; c <= 90; c++) columns[c] = columns[c + 32] as number;
    let shift = 0;
    while (1 << shift < used) shift++;
    const width = 1 << shift;
    // The trie, at most a state per character sought and the root; -1 where it has no edge.
    const states = sought.reduce((n, w) => n + w.length, 1);
    const moves = new Int32Array(states << shift).fill(-1);
    const ends = new Uint8Array(states);
    let count = 1;
    for (const w of sought) {
      let state = 0;
      for (let i = 0; i < w.length; i++) {
        const at = (state << shift) | (columns[w.charCodeAt(i)] as number);
        if ((moves[at] as number) < 0) moves[at] = count++;
        state = moves[at] as number;
      }
      ends[state] = 1;
    }
    // Breadth first, so a state's failure state is complete before it: each missing move becomes the failure
    // state's move; the root's go back to the root, column 0 (a character in no word) everywhere.
    const fail = new Int32Array(count);
    const queue = new Int32Array(count);
    let tail = 0;
    for (let col = 0; col < width; col++) {
      const to = moves[col] as number;
      if (to > 0) queue[tail++] = to;
      else moves[col] = 0;
    }
    for (let head = 0; head < tail; head++) {
      const state = queue[head] as number;
      const row = state << shift;
      const failRow = (fail[state] as number) << shift;
      if (ends[fail[state] as number]) ends[state] = 1;
      for (let col = 0; col < width; col++) {
        const to = moves[row | col] as number;
        if (to < 0) moves[row | col] = moves[failRow | col] as number;
        else {
          fail[to] = moves[failRow | col] as number;
          queue[tail++] = to;
        }
      }
    }
    return new WordMatcher(columns, shift, moves.subarray(0, count << shift), ends.subarray(0, count));
  }

  /**
   * Each maximal run of identifier characters (`[\p{L}\p{N}_$]`) that holds a word, once, with its line (from 0).
   * A run's identifiers are those `forEachIdentifier` finds in it alone, and every identifier lies in one run;
   * so a scan for names that contain a word visits only the runs that could. A word lies inside one run: the
   * automaton starts afresh past each run it reports.
   */
  forEachRun(text: string, onRun: (run: string, line: number) => void): void {
    const { columns, shift, moves, ends } = this;
    const n = text.length;
    let line = 0;
    let counted = 0;
    let state = 0;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      state = moves[(state << shift) | (c < 128 ? (columns[c] as number) : 0)] as number;
      if (ends[state] === 0) continue;
      const start = runStart(text, i);
      const end = runEnd(text, i);
      for (let nl = text.indexOf("\n", counted); nl !== -1 && nl < start; nl = text.indexOf("\n", counted)) {
        line++;
        counted = nl + 1;
      }
      onRun(text.slice(start, end), line);
      i = end - 1;
      state = 0;
    }
  }
}
