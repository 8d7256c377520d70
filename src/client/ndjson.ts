/** Reads a newline-delimited JSON body line by line; an `error` line (the API's envelope) ends it as a WinkyApiError. */
import { LineBuffer } from "../lib/streams/line-buffer";
import { envelopeBody, WinkyApiError } from "./errors";

export async function* readNdjson<T>(body: ReadableStream<Uint8Array>, status = 200): AsyncGenerator<T> {
  const reader = body.pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).getReader();
  const lines = new LineBuffer();
  const parse = (line: string): T => {
    const value = JSON.parse(line) as unknown;
    const error = envelopeBody(value);
    if (error) throw new WinkyApiError(status, error);
    return value as T;
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (const line of lines.push(value)) yield parse(line);
  }
  for (const line of lines.end()) yield parse(line);
}
