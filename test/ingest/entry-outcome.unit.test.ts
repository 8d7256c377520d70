/** One archive entry's outcome: what is kept of a binary file, the executable bit, and the limits of each kind. */
import { describe, expect, it } from "vitest";
import { entryReadLimit, stageEntry } from "../../src/lib/ingest/entry-outcome";
import { MAX_BLOB_BYTES } from "../../src/lib/storage/blob-store";

const file = (path: string, bytes: Uint8Array | undefined, mode = 0o644, size = bytes?.byteLength ?? 0) => ({ kind: "file" as const, path, size, mode, bytes });
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("stageEntry", () => {
  it("hands a binary file's bytes back to be stored, with its executable bit; the staged row holds no bytes", async () => {
    const bytes = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2]);
    const { file: staged, blob } = await stageEntry(file("bin/tool", bytes, 0o755), 1024);
    expect(blob).toBe(bytes);
    expect(staged).toEqual({ path: "bin/tool", size: 8, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), status: "binary", executable: true });
  });

  it("reads the executable bit of text files from any of the mode's x bits", async () => {
    for (const [mode, executable] of [
      [0o644, false],
      [0o755, true],
      [0o744, true],
      [0o654, true],
      [0o600, false],
    ] as const) {
      const { file: staged } = await stageEntry(file("run.sh", text("#!/bin/sh\n"), mode), 1024);
      expect(staged, mode.toString(8)).toMatchObject({ status: "text", executable });
    }
  });

  it("skips text past the project's limit and anything past what readers keep, each with its reason", async () => {
    const big = await stageEntry(file("notes.txt", text("x".repeat(2000))), 1024);
    expect(big.blob).toBeUndefined();
    expect(big.file).toMatchObject({ status: "skipped", skipReason: "too large", skipDetail: "a text file larger than the 1024-byte file limit (2000 bytes)" });
    // Read, so its hash is known: an unchanged one is not staged again.
    expect(big.file.sha256).toMatch(/^[0-9a-f]{64}$/);
    // A binary file past the text limit is still kept.
    const image = await stageEntry(file("logo.png", new Uint8Array(4096)), 1024);
    expect(image.file.status).toBe("binary");
    expect(image.blob?.byteLength).toBe(4096);
    const unread = await stageEntry(file("disk.img", undefined, 0o644, MAX_BLOB_BYTES + 1), 1024);
    expect(unread.file).toMatchObject({
      status: "skipped",
      skipReason: "too large",
      skipDetail: `larger than the ${MAX_BLOB_BYTES}-byte limit for binary files and the 1024-byte file limit for text (${MAX_BLOB_BYTES + 1} bytes)`,
    });
    expect(entryReadLimit(1024)).toBe(MAX_BLOB_BYTES);
  });
});
