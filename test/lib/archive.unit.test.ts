import { describe, expect, it } from "vitest";
import { type ArchiveEntry, type ArchiveFormat, bytesFile, DEFAULT_ARCHIVE_LIMITS, readArchive, writeTar } from "../../src/lib/archive";
import { streamOf } from "../../src/lib/archive/byte-reader";
import { AppError } from "../../src/lib/errors";
import { concat, gzip, tarGz, tarHeader, zip } from "../support/archives";

type Seen = { kind: string; path: string; size?: number; text?: string; target?: string; reason?: string };

function read(format: ArchiveFormat, body: Uint8Array, limits = DEFAULT_ARCHIVE_LIMITS): AsyncGenerator<ArchiveEntry> {
  return format === "zip" ? readArchive({ format, file: bytesFile(body) }, limits) : readArchive({ format, stream: streamOf(body) }, limits);
}

async function entries(gen: AsyncIterable<ArchiveEntry>): Promise<Seen[]> {
  const out: Seen[] = [];
  for await (const e of gen) {
    if (e.kind === "file") out.push({ kind: e.kind, path: e.path, size: e.size, ...(e.bytes ? { text: new TextDecoder().decode(e.bytes) } : {}) });
    else if (e.kind === "symlink") out.push({ kind: e.kind, path: e.path, target: e.target });
    else out.push({ kind: e.kind, path: e.path, reason: e.reason });
  }
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
const block = (data: Uint8Array): Uint8Array => concat(data, new Uint8Array((512 - (data.byteLength % 512)) % 512));

describe("tar.gz", () => {
  it("reads files, long and non-ASCII pax paths, and skips directories", async () => {
    const body = await tarGz([
      { path: "src/a.ts", content: "export const a = 1;\n" },
      { path: longPath, content: "long" },
      { path: "./b.md", content: "# b" },
      { path: `src/${"é".repeat(60)}/café.ts`, content: "x" },
    ]);
    expect(await entries(read("tar.gz", body))).toEqual([
      { kind: "file", path: "src/a.ts", size: 20, text: "export const a = 1;\n" },
      { kind: "file", path: longPath, size: 4, text: "long" },
      { kind: "file", path: "b.md", size: 3, text: "# b" },
      { kind: "file", path: `src/${"é".repeat(60)}/café.ts`, size: 1, text: "x" },
    ]);
  });

  it("lists files over the size cap without their content", async () => {
    const body = await tarGz([{ path: "big.txt", content: "x".repeat(5000) }]);
    expect(await entries(read("tar.gz", body, { ...limits, maxFileBytes: 1000 }))).toEqual([{ kind: "file", path: "big.txt", size: 5000 }]);
  });

  it.each([
    ["../escape.txt", "unsafe_path"],
    ["a/../../escape.txt", "unsafe_path"],
    ["/etc/passwd", "unsafe_path"],
  ])("refuses the path %s", async (path, code) => {
    const body = await gzip(concat(tarHeader(path, "0", 2), new Uint8Array(512), new Uint8Array(1024)));
    expect(await failure(() => entries(read("tar.gz", body)))).toMatchObject({ status: 400, code });
  });

  it("gives links, special files and unprintable or over-long paths an outcome, and reads on", async () => {
    const tar = concat(
      tarHeader("link", "2", 0, "/etc/passwd"),
      tarHeader("far", "2", 0, "t".repeat(90)),
      tarHeader("hard", "1", 0, "a.txt"),
      tarHeader("dev", "3"),
      tarHeader("fifo", "6"),
      tarHeader("bad\nname.ts", "0", 2),
      block(new TextEncoder().encode("ok")),
      tarHeader(`${"x".repeat(99)}`, "0", 1),
      block(new TextEncoder().encode("y")),
      new Uint8Array(1024),
    );
    expect(await entries(read("tar", tar, { ...limits, maxPathBytes: 50 }))).toEqual([
      { kind: "symlink", path: "link", target: "/etc/passwd" },
      { kind: "skipped", path: "far", reason: "path too long" },
      { kind: "skipped", path: "hard", reason: "hardlink" },
      { kind: "skipped", path: "dev", reason: "special file" },
      { kind: "skipped", path: "fifo", reason: "special file" },
      { kind: "skipped", path: "bad\ufffdname.ts", reason: "invalid path" },
      { kind: "skipped", path: "x".repeat(99), reason: "path too long" },
    ]);
  });

  it("stops an archive bomb at the unpacked-size cap", async () => {
    const bomb = await gzip(writeTar(Array.from({ length: 8 }, (_, i) => ({ path: `zeros${i}`, bytes: new Uint8Array(4 * 1024 * 1024) }))));
    expect(bomb.byteLength).toBeLessThan(200_000);
    expect(await failure(() => entries(read("tar.gz", bomb, { ...limits, maxUnpackedBytes: 16 * 1024 * 1024 })))).toMatchObject({
      status: 413,
      code: "archive_too_large",
    });
  });

  it("stops at the entry cap", async () => {
    const body = writeTar(Array.from({ length: 5 }, (_, i) => ({ path: `f${i}`, bytes: new Uint8Array(1) })));
    expect((await failure(() => entries(read("tar", body, { ...limits, maxEntries: 3 })))).code).toBe("too_many_entries");
  });

  it("reports corrupt and truncated archives", async () => {
    const good = await tarGz([{ path: "a.txt", content: "a".repeat(3000) }]);
    expect((await failure(() => entries(read("tar.gz", good.subarray(0, good.length - 40))))).code).toBe("corrupt_archive");
    expect((await failure(() => entries(read("tar.gz", new TextEncoder().encode("not an archive"))))).code).toBe("corrupt_archive");
    const badSum = writeTar([{ path: "a.txt", bytes: new Uint8Array(3) }]);
    badSum[0] = 0x62;
    expect((await failure(() => entries(read("tar", badSum)))).code).toBe("corrupt_archive");
    const cut = writeTar([{ path: "a.txt", bytes: new Uint8Array(3000) }]).subarray(0, 1024);
    expect((await failure(() => entries(read("tar", cut)))).code).toBe("corrupt_archive");
  });
});

describe("zip", () => {
  it("reads deflated entries", async () => {
    const body = await zip([
      { path: "src/a.py", content: "print('a')\n" },
      { path: "docs\\win.md", content: "windows separators" },
    ]);
    expect(await entries(read("zip", body))).toEqual([
      { kind: "file", path: "src/a.py", size: 11, text: "print('a')\n" },
      { kind: "file", path: "docs/win.md", size: 18, text: "windows separators" },
    ]);
  });

  it("records links, refuses escaping paths and entries that inflate past their declared size", async () => {
    expect(await entries(read("zip", await zip([{ path: "l", content: "/etc", symlink: true }])))).toEqual([{ kind: "symlink", path: "l", target: "/etc" }]);
    expect((await failure(async () => entries(read("zip", await zip([{ path: "../x", content: "x" }]))))).code).toBe("unsafe_path");
    const liar = await zip([{ path: "bomb.txt", content: "0".repeat(1_000_000), declaredSize: 10 }]);
    expect((await failure(() => entries(read("zip", liar)))).code).toBe("corrupt_archive");
    expect((await failure(() => entries(read("zip", new TextEncoder().encode("PK not really"))))).code).toBe("corrupt_archive");
  });
});
