/** Long bug-report prompts as users paste them: a traceback through the project's own files and functions, the error, steps, logs. */

/** A function the project defines: where a traceback frame points. */
export type Frame = { path: string; name: string; line: number };

const ERRORS = [
  "TypeError: unsupported operand type(s) for +: 'NoneType' and 'int'",
  "KeyError: 'session_id'",
  "AttributeError: 'NoneType' object has no attribute 'get'",
  "ValueError: invalid literal for int() with base 10: ''",
  "RecursionError: maximum recursion depth exceeded while calling a Python object",
  "AssertionError: expected 3 rows, got 0",
  "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
];

/** A small deterministic generator, so a run's prompts can be rebuilt from its seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Log-uniform between 1 kB and 25 kB: most reports are short, some paste long logs. */
export function reportBytes(random: () => number, min = 1_000, max = 25_000): number {
  return Math.round(min * (max / min) ** random());
}

/**
 * A bug report of about `bytes` characters: title, steps, a traceback of 3–12 frames from `frames`,
 * the error, expected and actual behaviour, environment, then log lines naming the same functions.
 */
export function bugReport(frames: Frame[], random: () => number, bytes: number): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const depth = 3 + Math.floor(random() * 10);
  const trace = frames.length === 0 ? [] : Array.from({ length: depth }, () => pick(frames));
  const error = pick(ERRORS);
  const last = trace.at(-1);
  const lines = [
    `Bug: ${last ? `${last.name}() in ${last.path}` : "a call"} fails with ${error.split(":")[0]} after upgrading`,
    "",
    "Steps to reproduce:",
    "1. Start from a clean checkout and install the package in a fresh virtual environment.",
    `2. Call ${trace[0]?.name ?? "main"}() with the default configuration and an empty input.`,
    `3. Call it again with the result of ${trace[1]?.name ?? "the first call"}().`,
    "",
    "Traceback (most recent call last):",
    ...trace.flatMap((f) => [`  File "${f.path}", line ${f.line}, in ${f.name}`, `    return ${f.name}(value, **options)`]),
    error,
    "",
    `Expected: ${last?.name ?? "the call"} returns the parsed value. Actual: the error above, every time.`,
    `Environment: Python 3.12.${Math.floor(random() * 8)}, Linux x86_64, installed from the main branch.`,
    "",
    "Log before the failure:",
  ];
  let text = lines.join("\n");
  for (let i = 0; text.length < bytes; i++) {
    const f = pick(frames.length > 0 ? frames : [{ path: "app.py", name: "handler", line: 1 }]);
    text += `\n2026-11-22T10:${String(i % 60).padStart(2, "0")}:${String(Math.floor(random() * 60)).padStart(2, "0")} DEBUG ${f.path}:${f.line} ${f.name} called with value=${Math.floor(random() * 1e6)} state=${pick(["ready", "pending", "closed", "retrying"])}`;
  }
  return text.slice(0, Math.max(bytes, 200));
}

/** Functions and classes defined in a chunk's text, with their line numbers in the file. */
export function definitions(path: string, text: string, startLine: number): Frame[] {
  const out: Frame[] = [];
  text.split("\n").forEach((line, i) => {
    const m = /^\s*(?:async\s+)?(?:def|class|function)\s+([A-Za-z_]\w*)/.exec(line);
    if (m?.[1]) out.push({ path, name: m[1], line: startLine + i });
  });
  return out;
}

/** The benchmarks' bug reports of about 5 kB through the corpus's own functions, the same every run. */
export function benchReports(files: { path: string; text: string }[], n: number): string[] {
  const frames = files.flatMap((f) => definitions(f.path, f.text, 1).filter((d) => /\.(js|ts|py)$/.test(d.path)));
  const random = rng(13);
  return Array.from({ length: n }, () => bugReport(frames, random, reportBytes(random, 4_000, 6_000)));
}
