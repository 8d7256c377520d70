import { describe, expect, it } from "vitest";
import { type ArchiveEntry, DEFAULT_ARCHIVE_LIMITS, readArchive, writeTar } from "../../src/lib/archive";
import { AppError } from "../../src/lib/errors";
import { concat, gzip, tarGz, tarHeader, zip } from "../support/archives";

async function entries(gen: AsyncIterable<ArchiveEntry>): Promise<{ path: string; text?: string; size: number }[]> {
  const out = [];
  for await (const e of gen) out.push({ path: e.path, size: e.size, ...(e.bytes ? { text: new TextDecoder().decode(e.bytes) } : {}) });
  return out;
}

async function failure(run: () => Promise<unknown>): Promise<{ status: number; code: string; message: string }> {
  try {
    await run();
  } catch (e) {
    if (e instanceof AppError) return { status: e.status, code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected an AppError");
}

const limits = DEFAULT_ARCHIVE_LIMITS;
const longPath = `${"deep/".repeat(30)}file.ts`;

describe("tar.gz", () => {
  it("reads files, long pax paths and skips directories", async () => {
    const body = await tarGz([
      { path: "src/a.ts", content: "export const a = 1;\n" },
      { path: longPath, content: "long" },
      { path: "./b.md", content: "# b" },
    ]);
    expect(await entries(readArchive("tar.gz", body, limits))).toEqual([
      { path: "src/a.ts", size: 20, text: "export const a = 1;\n" },
      { path: longPath, size: 4, text: "long" },
      { path: "b.md", size: 3, text: "# b" },
    ]);
  });

  it("lists files over the size cap without their content", async () => {
    const body = await tarGz([{ path: "big.txt", content: "x".repeat(5000) }]);
    expect(await entries(readArchive("tar.gz", body, { ...limits, maxFileBytes: 1000 }))).toEqual([{ path: "big.txt", size: 5000 }]);
  });

  it.each([
    ["../escape.txt", "unsafe_path"],
    ["a/../../escape.txt", "unsafe_path"],
    ["/etc/passwd", "unsafe_path"],
  ])("refuses the path %s", async (path, code) => {
    const body = await gzip(concat(tarHeader(path, "0", 2), new Uint8Array(512), new Uint8Array(1024)));
    expect(await failure(() => entries(readArchive("tar.gz", body, limits)))).toMatchObject({ status: 400, code });
  });

  it("refuses symbolic and hard links", async () => {
    const tar = concat(tarHeader("link", "2", 0, "/etc/passwd"), new Uint8Array(1024));
    expect(await failure(() => entries(readArchive("tar", tar, limits)))).toMatchObject({ status: 400, code: "link_not_allowed" });
    const hard = concat(tarHeader("hard", "1", 0, "a"), new Uint8Array(1024));
    expect((await failure(() => entries(readArchive("tar", hard, limits)))).code).toBe("link_not_allowed");
  });

  it("stops an archive bomb at the unpacked-size cap", async () => {
    const bomb = await gzip(writeTar(Array.from({ length: 8 }, (_, i) => ({ path: `zeros${i}`, bytes: new Uint8Array(4 * 1024 * 1024) }))));
    expect(bomb.byteLength).toBeLessThan(200_000);
    expect(await failure(() => entries(readArchive("tar.gz", bomb, { ...limits, maxUnpackedBytes: 16 * 1024 * 1024 })))).toMatchObject({
      status: 413,
      code: "archive_too_large",
    });
  });

  it("reports corrupt and truncated archives", async () => {
    const good = await tarGz([{ path: "a.txt", content: "a".repeat(3000) }]);
    expect((await failure(() => entries(readArchive("tar.gz", good.subarray(0, good.length - 40), limits)))).code).toBe("corrupt_archive");
    expect((await failure(() => entries(readArchive("tar.gz", new TextEncoder().encode("not an archive"), limits)))).code).toBe("corrupt_archive");
    const badSum = writeTar([{ path: "a.txt", bytes: new Uint8Array(3) }]);
    badSum[0] = 0x62;
    expect((await failure(() => entries(readArchive("tar", badSum, limits)))).code).toBe("corrupt_archive");
  });

  it("refuses an empty body", async () => {
    expect(await failure(async () => readArchive("tar.gz", new Uint8Array(), limits))).toMatchObject({ status: 400, code: "empty_upload" });
  });
});

describe("zip", () => {
  it("reads deflated entries", async () => {
    const body = await zip([
      { path: "src/a.py", content: "print('a')\n" },
      { path: "docs\\win.md", content: "windows separators" },
    ]);
    expect(await entries(readArchive("zip", body, limits))).toEqual([
      { path: "src/a.py", size: 11, text: "print('a')\n" },
      { path: "docs/win.md", size: 18, text: "windows separators" },
    ]);
  });

  it("refuses links, escaping paths and entries that inflate past their declared size", async () => {
    expect((await failure(async () => entries(readArchive("zip", await zip([{ path: "l", content: "/etc", symlink: true }]), limits)))).code).toBe(
      "link_not_allowed",
    );
    expect((await failure(async () => entries(readArchive("zip", await zip([{ path: "../x", content: "x" }]), limits)))).code).toBe("unsafe_path");
    const liar = await zip([{ path: "bomb.txt", content: "0".repeat(1_000_000), declaredSize: 10 }]);
    expect((await failure(() => entries(readArchive("zip", liar, limits)))).code).toBe("corrupt_archive");
  });
});
