import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, createProject, json, waitForJob } from "../support/api";
import { concat, gzip, tarHeader } from "../support/archives";

type FileView = {
  path: string;
  status: string;
  encoding: string | null;
  linkTarget: string | null;
  skipReason: string | null;
  skipDetail: string | null;
  tokenCount: number;
  chunkIds: string[];
};

const enc = new TextEncoder();

/** One tar member: its header, its data padded to the block size. */
function member(name: string, type: string, data: Uint8Array = new Uint8Array(), linkName = ""): Uint8Array {
  const padded = new Uint8Array(Math.ceil(data.byteLength / 512) * 512);
  padded.set(data);
  return concat(tarHeader(name, type, data.byteLength, linkName), padded);
}

/** A pax extended header carrying `path` (record lengths count bytes, as GNU tar and bsdtar write them). */
function paxPath(path: string): Uint8Array {
  const body = ` path=${path}\n`;
  const bytes = enc.encode(body).byteLength;
  let len = bytes + 1;
  while (String(len).length + bytes !== len) len = String(len).length + bytes;
  return member("PaxHeader/x", "x", enc.encode(`${len}${body}`));
}

const latin1 = new Uint8Array([...enc.encode("# caf"), 0xe9, ...enc.encode(" au lait\nname = 'caf"), 0xe9, ...enc.encode("'\n")]);
// "Привет, мир" in windows-1251.
const cp1251 = new Uint8Array([...enc.encode("s = '"), 0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2, 0x2c, 0x20, 0xec, 0xe8, 0xf0, ...enc.encode("'\n")]);
const utf16 = new Uint8Array([0xff, 0xfe, ...[..."hello utf16\n"].flatMap((ch) => [ch.charCodeAt(0), 0])]);
const postscript = new Uint8Array([...enc.encode("%!PS-Adobe-3.0\n%%Creator: Adobe Illustrator(R) 8.0\n%%Title: (logo "), 0xa9, ...enc.encode(" 1999)\n")]);

async function archive(): Promise<Uint8Array> {
  return gzip(
    concat(
      member("src/app.py", "0", enc.encode("def main():\n    return 'ok'\n")),
      member("tests/data_latin1.py", "0", latin1),
      member("tests/cp_1251_coded.py", "0", cp1251),
      member("docs/utf16.txt", "0", utf16),
      member("ext/logo.ai", "0", postscript),
      member("CITATION", "2", new Uint8Array(), "docs/cite.txt"),
      member("docs/cite.txt", "0", enc.encode("Cite us.\n")),
      member("evil", "2", new Uint8Array(), "../../etc/passwd"),
      member("absolute", "2", new Uint8Array(), "/etc/passwd"),
      member("src/hard", "1", new Uint8Array(), "src/app.py"),
      member("fifo", "6"),
      paxPath("src/café.ts"),
      member("src/cafe.ts", "0", enc.encode("export const café = 'crème';\n")),
      member("./src/app.py", "0", enc.encode("def main():\n    return 'second copy'\n")),
      member("node_modules/dep/index.js", "0", enc.encode("module.exports = 1;\n")),
      new Uint8Array(1024),
    ),
  );
}

async function files(projectId: string, query = ""): Promise<FileView[]> {
  return (await json<{ files: FileView[] }>(await api(`/api/projects/${projectId}/files${query}`), 200)).files;
}

describe("every entry of a real-world archive gets an outcome", () => {
  it("decodes legacy encodings, records links, skips what cannot be indexed, and indexes the rest", async () => {
    const projectId = await createProject();
    const res = await api(`/api/projects/${projectId}/ingest`, { method: "POST", body: await archive(), headers: { "content-type": "application/gzip" } });
    const { jobId } = await json<{ jobId: string }>(res, 202);
    const job = await waitForJob(jobId);
    expect(job.status).toBe("done");
    expect(job.errors).toEqual([]);
    expect(job.outcomes).toEqual({
      text: 3,
      decoded: 4,
      binary: 0,
      link: 1,
      skipped: { symlink: 2, hardlink: 1, "special file": 1, ignored: 1, "duplicate path": 1 },
    });
    expect(job.skipped).toEqual(
      expect.arrayContaining([
        { path: "src/app.py", reason: "duplicate path", detail: expect.any(String) },
        { path: "node_modules/dep/index.js", reason: "ignored", detail: "default ignore list" },
        { path: "evil", reason: "symlink", detail: expect.stringContaining("leaves the project root") },
        { path: "absolute", reason: "symlink", detail: expect.stringContaining("leaves the project root") },
        { path: "src/hard", reason: "hardlink", detail: expect.any(String) },
        { path: "fifo", reason: "special file", detail: expect.any(String) },
      ]),
    );

    const all = new Map((await files(projectId)).map((f) => [f.path, f]));
    expect(all.get("tests/data_latin1.py")).toMatchObject({ status: "text", encoding: "windows-1252" });
    expect(all.get("tests/cp_1251_coded.py")).toMatchObject({ status: "text", encoding: "windows-1251" });
    expect(all.get("docs/utf16.txt")).toMatchObject({ status: "text", encoding: "utf-16le" });
    expect(all.get("ext/logo.ai")).toMatchObject({ status: "text", encoding: "windows-1252" });
    expect(all.get("src/café.ts")).toMatchObject({ status: "text", encoding: null });
    expect(all.get("CITATION")).toMatchObject({ status: "link", linkTarget: "docs/cite.txt", chunkIds: [] });
    expect(all.get("evil")).toMatchObject({ status: "skipped", skipReason: "symlink", linkTarget: "../../etc/passwd" });
    expect(all.get("src/hard")).toMatchObject({ status: "skipped", skipReason: "hardlink" });
    expect(all.get("fifo")).toMatchObject({ status: "skipped", skipReason: "special file" });
    expect(all.has("node_modules/dep/index.js")).toBe(false);

    // The decoded text is what was chunked: the chunk reads back in UTF-8 and carries its source encoding.
    const russian = await json<{ text: string }>(await api(`/api/chunks/${all.get("tests/cp_1251_coded.py")?.chunkIds[0]}`), 200);
    expect(russian.text).toBe("s = 'Привет, мир'\n");
    const chunkRow = await env.DB.prepare("SELECT encoding FROM chunks WHERE chunk_id = ?").bind(all.get("tests/data_latin1.py")?.chunkIds[0]).first();
    expect(chunkRow).toEqual({ encoding: "windows-1252" });
    // The first of two entries with one path wins.
    const app = await json<{ text: string }>(await api(`/api/chunks/${all.get("src/app.py")?.chunkIds[0]}`), 200);
    expect(app.text).toContain("return 'ok'");

    // The status filter lists exactly the skipped entries that have a row.
    expect((await files(projectId, "?status=skipped")).map((f) => f.path)).toEqual(["absolute", "evil", "fifo", "src/hard"]);
    expect((await files(projectId, "?status=link")).map((f) => f.path)).toEqual(["CITATION"]);
    expect((await json<{ error: { code: string } }>(await api(`/api/projects/${projectId}/files?status=bogus`), 400)).error.code).toBe("invalid_request");

    // The rest of the repository is searchable, decoded files included.
    const assembled = await json<{ contextPieces: { sourcePath: string }[] }>(
      await api("/api/context/assemble", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ projectId, prompt: "café au lait crème", budget: 8000 }),
      }),
      200,
    );
    const paths = assembled.contextPieces.map((p) => p.sourcePath);
    expect(paths).toEqual(expect.arrayContaining(["tests/data_latin1.py", "src/café.ts"]));
  });
});
