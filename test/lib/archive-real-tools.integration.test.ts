/**
 * Archives made by real tools (test/node/real-tool-archives.ts builds them with GNU tar, bsdtar, git
 * archive and Info-ZIP): every entry is read with the outcome it should have.
 */
import { describe, expect, inject, it } from "vitest";
import { type ArchiveEntry, type ArchiveFormat, bytesFile, DEFAULT_ARCHIVE_LIMITS, readArchive } from "../../src/lib/archive";
import { streamOf } from "../../src/lib/archive/byte-reader";

const base = inject("realArchivesUrl");
const LONG = `${"nested-directory/".repeat(7)}a-file-name-long-enough-to-pass-one-hundred-bytes.py`;

type Outcome = string;

async function outcomes(name: string, format: ArchiveFormat): Promise<Map<string, Outcome>> {
  const body = new Uint8Array(await (await fetch(`${base}/${name}`)).arrayBuffer());
  const source = format === "zip" ? { format, file: bytesFile(body) } : { format, stream: streamOf(body) };
  const seen = new Map<string, Outcome>();
  for await (const e of readArchive(source, DEFAULT_ARCHIVE_LIMITS) as AsyncIterable<ArchiveEntry>) {
    if (e.kind === "file") seen.set(e.path, `file ${e.bytes ? new TextDecoder("latin1").decode(e.bytes) : "(too large)"}`);
    else if (e.kind === "symlink") seen.set(e.path, `symlink -> ${e.target}`);
    else seen.set(e.path, `skipped: ${e.reason}`);
  }
  return seen;
}

const common = {
  "docs/cite.txt": "file Cite us.\n",
  CITATION: "symlink -> docs/cite.txt",
  evil: "symlink -> ../../etc/passwd",
};
const app = "file def main():\n    return 'ok'\n";
const latin1 = { "tests/data_latin1.py": "file # caf\u00e9 au lait\n" };
const full = {
  ...common,
  "src/app.py": app,
  ...latin1,
  "src/café.ts": "file export const cafÃ© = 'crÃ¨me';\n",
  "empty.txt": "file ",
  [LONG]: "file long = True\n",
};

/** tar stores the second name of a hard-linked file as a link to the first; which is first is the directory's order. */
function splitHardLink(seen: Map<string, Outcome>): Record<string, Outcome> {
  const names = ["src/app.py", "src/hard.py"];
  const kinds = names.map((n) => seen.get(n)).sort();
  expect(kinds).toEqual([app, "skipped: hardlink"]);
  const out = Object.fromEntries(seen);
  for (const n of names) delete out[n];
  return out;
}

describe("archives made by real tools", () => {
  it.each([
    ["gnu.tar.gz", "tar.gz"],
    ["pax.tar.gz", "tar.gz"],
    ["bsdtar-pax.tar.gz", "tar.gz"],
  ] as const)("%s: files, non-ASCII and long names, links, a hard link and a FIFO", async (name, format) => {
    const { "src/app.py": _app, ...rest } = full;
    expect(splitHardLink(await outcomes(name, format))).toEqual({ ...rest, fifo: "skipped: special file" });
  });

  it.each([
    ["ustar.tar", "tar"],
    ["bsdtar-ustar.tar", "tar"],
  ] as const)("%s: plain ustar", async (name, format) => {
    expect(splitHardLink(await outcomes(name, format))).toEqual({ ...common, "src/café.ts": full["src/café.ts"], fifo: "skipped: special file" });
  });

  it.each([
    ["git-archive.tar.gz", "tar.gz"],
    ["git-archive.zip", "zip"],
    ["info-zip.zip", "zip"],
  ] as const)("%s: what git tracks, links included", async (name, format) => {
    // zip has no hard links: Info-ZIP stores the second name as a file of its own.
    expect(Object.fromEntries(await outcomes(name, format))).toEqual(name === "info-zip.zip" ? { ...full, "src/hard.py": app } : full);
  });

  it("reads a zip written to a pipe, whose entries carry data descriptors", async () => {
    const seen = await outcomes("info-zip-streamed.zip", "zip");
    expect(seen.get("src/app.py")).toBe(app);
    expect(seen.get("docs/cite.txt")).toBe(common["docs/cite.txt"]);
  });

  it("skips a GNU tar --sparse file under its real name and reads the entry after it", async () => {
    expect(Object.fromEntries(await outcomes("pax-sparse.tar.gz", "tar.gz"))).toEqual({ "disk.img": "skipped: special file", "after.txt": "file after\n" });
  });

  it("reads a zip64 archive of 70,000 entries", async () => {
    const seen = await outcomes("zip64-70000.zip", "zip");
    expect(seen.size).toBe(70_000);
    expect(seen.get("d69/f999.txt")).toBe("file 69-999\n");
  });
});
