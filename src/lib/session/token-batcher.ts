/** Model text streamed in events of about TOKEN_FLUSH_CHARS or TOKEN_FLUSH_MS, not one event per token. */
export const TOKEN_FLUSH_CHARS = 400;
export const TOKEN_FLUSH_MS = 100;

export type TokenBatch = { pass: string; text: string };

export class TokenBatcher {
  private pending: (TokenBatch & { since: number }) | undefined;

  constructor(
    private readonly send: (batch: TokenBatch) => void,
    private readonly limits = { chars: TOKEN_FLUSH_CHARS, ms: TOKEN_FLUSH_MS },
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds text of a pass; a different pass, or a batch past its size or age, is sent. */
  push(pass: string, text: string): void {
    if (this.pending && this.pending.pass !== pass) this.flush();
    this.pending ??= { pass, text: "", since: this.now() };
    this.pending.text += text;
    if (this.pending.text.length >= this.limits.chars || this.now() - this.pending.since >= this.limits.ms) this.flush();
  }

  /** Sends what is held, if anything. */
  flush(): void {
    if (this.pending) this.send({ pass: this.pending.pass, text: this.pending.text });
    this.pending = undefined;
  }
}
