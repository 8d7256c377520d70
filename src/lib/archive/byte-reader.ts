/** Reads exact byte counts from a stream, counting what it has pulled so a cap can stop a bomb. */
import { AppError } from "../errors";

export class ByteReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private buffered: Uint8Array[] = [];
  private bufferedBytes = 0;
  private done = false;
  /** Bytes pulled from the stream so far. */
  pulled = 0;

  constructor(
    stream: ReadableStream<Uint8Array>,
    private readonly maxBytes: number,
    private readonly onOverflow: () => Error,
    private readonly onStreamError: (e: unknown) => Error,
  ) {
    this.reader = stream.getReader();
  }

  private async fill(n: number): Promise<void> {
    while (this.bufferedBytes < n && !this.done) {
      let result: Awaited<ReturnType<typeof this.reader.read>>;
      try {
        result = await this.reader.read();
      } catch (e) {
        // An error the stream's own checks raised (a size cap, an empty body) keeps its meaning.
        throw e instanceof AppError ? e : this.onStreamError(e);
      }
      if (result.done) {
        this.done = true;
        break;
      }
      this.pulled += result.value.byteLength;
      if (this.pulled > this.maxBytes) {
        await this.reader.cancel().catch(() => undefined);
        throw this.onOverflow();
      }
      this.buffered.push(result.value);
      this.bufferedBytes += result.value.byteLength;
    }
  }

  /** Exactly n bytes, or null at a clean end of stream; a partial read is returned short. */
  async read(n: number): Promise<Uint8Array | null> {
    await this.fill(n);
    if (this.bufferedBytes === 0) return null;
    const take = Math.min(n, this.bufferedBytes);
    const out = new Uint8Array(take);
    let off = 0;
    while (off < take) {
      const head = this.buffered[0] as Uint8Array;
      const part = Math.min(head.byteLength, take - off);
      out.set(head.subarray(0, part), off);
      off += part;
      if (part === head.byteLength) this.buffered.shift();
      else this.buffered[0] = head.subarray(part);
    }
    this.bufferedBytes -= take;
    return out;
  }

  /** Discards n bytes; returns how many were actually there. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      await this.fill(Math.min(left, 1 << 20));
      if (this.bufferedBytes === 0) break;
      const head = this.buffered[0] as Uint8Array;
      const part = Math.min(head.byteLength, left);
      if (part === head.byteLength) this.buffered.shift();
      else this.buffered[0] = head.subarray(part);
      this.bufferedBytes -= part;
      left -= part;
    }
    return n - left;
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
  }
}

/** A one-chunk stream over bytes already in memory. */
export function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}
