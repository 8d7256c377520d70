/** Splits text arriving in pieces into its lines: the one newline-delimited reader of NDJSON streams. */
export class LineBuffer {
  private buffered = "";

  /** The complete, non-empty lines `text` finishes (trimmed); a line still open stays buffered. */
  push(text: string): string[] {
    this.buffered += text;
    const parts = this.buffered.split("\n");
    this.buffered = parts.pop() ?? "";
    return parts.map((l) => l.trim()).filter((l) => l !== "");
  }

  /** How many characters the open line holds (a reader bounds it). */
  get pending(): number {
    return this.buffered.length;
  }

  /** The last line, when the text ended without a newline. */
  end(): string[] {
    const last = this.buffered.trim();
    this.buffered = "";
    return last ? [last] : [];
  }
}
