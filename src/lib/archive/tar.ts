/**
 * Streaming tar reader over modern-tar's decoder (ustar, pax with byte-counted UTF-8 records, GNU long
 * names, base-256 sizes), with our limits policy: the decompressed bytes are counted before the decoder
 * (a bomb stops at the cap), entries are counted, and each entry gets its outcome.
 */
import { createTarDecoder } from "modern-tar";
import { AppError } from "../errors";
import { ByteReader } from "./byte-reader";
import { type ArchiveEntry, type ArchiveLimits, checkEntryPath, corrupt, symlinkEntry, tooLarge, tooManyEntries } from "./limits";

export async function* readTar(stream: ReadableStream<Uint8Array>, limits: ArchiveLimits): AsyncGenerator<ArchiveEntry> {
  let unpacked = 0;
  const counted = stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        unpacked += chunk.byteLength;
        if (unpacked > limits.maxUnpackedBytes) throw tooLarge(limits);
        controller.enqueue(chunk);
      },
    }),
  );
  const decoder = createTarDecoder({ strict: true });
  const piping = counted.pipeTo(decoder.writable).catch(() => undefined);
  const reader = decoder.readable.getReader();
  let entries = 0;
  try {
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (e) {
        throw classify(e);
      }
      if (next.done) break;
      const { header, body } = next.value;
      if (++entries > limits.maxEntries) {
        await body.cancel();
        throw tooManyEntries(limits);
      }
      const type = header.type ?? "file";
      // A pax sparse file (GNU tar --sparse) is stored under "GNUSparseFile.<pid>/<name>"; its real name is a record.
      const sparse = header.pax?.["GNU.sparse.major"] !== undefined || header.pax?.["GNU.sparse.map"] !== undefined;
      const checked = checkEntryPath((sparse && header.pax?.["GNU.sparse.name"]) || header.name, limits);
      if (type === "directory" || "skipped" in checked) {
        await drain(body);
        if ("skipped" in checked && type !== "directory") yield { ...checked.skipped, size: header.size };
        continue;
      }
      const { path } = checked;
      if (type === "symlink") {
        await drain(body);
        yield symlinkEntry(path, header.linkname ?? "", limits);
      } else if (type === "link") {
        await drain(body);
        yield { kind: "skipped", path, size: 0, reason: "hardlink", detail: `a hard link to "${header.linkname ?? ""}"` };
      } else if (type !== "file") {
        await drain(body);
        yield { kind: "skipped", path, size: header.size, reason: "special file", detail: `a ${type}` };
      } else if (sparse) {
        // Its stored bytes are a map of the holes followed by the data regions, not the file's bytes.
        await drain(body);
        yield { kind: "skipped", path, size: header.size, reason: "special file", detail: "a GNU sparse file" };
      } else if (header.size > limits.maxFileBytes) {
        await drain(body);
        yield { kind: "file", path, size: header.size, mode: header.mode ?? 0o644, bytes: undefined };
      } else {
        const bytes = await readAll(body, header.size);
        yield { kind: "file", path, size: header.size, mode: header.mode ?? 0o644, bytes };
      }
    }
    if (unpacked === 0) throw corrupt("no tar data");
  } finally {
    await reader.cancel().catch(() => undefined);
    await piping;
  }
}

async function drain(body: ReadableStream<Uint8Array>): Promise<void> {
  try {
    const r = body.getReader();
    while (!(await r.read()).done) {
      // skip: the decoder needs the body consumed to reach the next header
    }
  } catch (e) {
    throw classify(e);
  }
}

async function readAll(body: ReadableStream<Uint8Array>, size: number): Promise<Uint8Array> {
  const reader = new ByteReader(
    body,
    size,
    () => corrupt("an entry is longer than its header says"),
    (e) => classify(e),
  );
  const bytes = (await reader.read(size)) ?? new Uint8Array();
  if (bytes.byteLength < size) throw corrupt("truncated entry");
  if ((await reader.read(1)) !== null) throw corrupt("an entry is longer than its header says");
  return bytes;
}

/** Our own errors (the size cap) keep their meaning; anything the decoder or gzip raised is corruption. */
function classify(e: unknown): AppError {
  return e instanceof AppError ? e : corrupt(e instanceof Error ? e.message : String(e));
}
