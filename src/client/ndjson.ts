/** Reads a newline-delimited JSON body line by line; an `error` line (the API's envelope) ends it as a WinkyApiError. */
import { envelopeBody, WinkyApiError } from "./errors";

export async function* readNdjson<T>(body: ReadableStream<Uint8Array>, status = 200): AsyncGenerator<T> {
  const reader = body.pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).getReader();
  let buffered = "";
  const parse = (line: string): T => {
    const value = JSON.parse(line) as unknown;
    const error = envelopeBody(value);
    if (error) throw new WinkyApiError(status, error);
    return value as T;
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += value;
    let nl = buffered.indexOf("\n");
    while (nl >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) yield parse(line);
      nl = buffered.indexOf("\n");
    }
  }
  if (buffered.trim()) yield parse(buffered.trim());
}
