/**
 * What a command prints: with --json, one JSON document (or one JSON line per streamed event) on stdout
 * and nothing else there; without, text for people. Progress and notes go to stderr either way.
 */
export class Output {
  constructor(readonly json: boolean) {}

  /** The command's result: `data` as JSON, or `text` for people. */
  result(data: unknown, text: string | (() => string)): void {
    if (this.json) process.stdout.write(`${JSON.stringify(data)}\n`);
    else {
      const t = typeof text === "string" ? text : text();
      if (t) process.stdout.write(t.endsWith("\n") ? t : `${t}\n`);
    }
  }

  /** One streamed item: a JSON line, or text. */
  line(data: unknown, text: string): void {
    if (this.json) process.stdout.write(`${JSON.stringify(data)}\n`);
    else process.stdout.write(`${text}\n`);
  }

  /** A note for people (stderr, so stdout stays the result). */
  note(text: string): void {
    process.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  /** A progress line redrawn in place, only on a terminal. */
  progress(text: string): void {
    if (process.stderr.isTTY) process.stderr.write(`\r${text}  `);
  }

  endProgress(): void {
    if (process.stderr.isTTY) process.stderr.write("\n");
  }
}

export const fmt = (n: number): string => n.toLocaleString("en-US");
export const mib = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`;

export function bar(done: number, total: number, width = 30): string {
  const share = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(share * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}%`;
}

/** Rows as aligned columns. */
export function table(rows: string[][]): string {
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ")).join("\n");
}
